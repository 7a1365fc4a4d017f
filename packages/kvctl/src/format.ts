/** The text a person sees of a result (the cluster table, migrations, a forced removal); output.ts picks between it and json, table or plain. */
import type { ClusterView, ForceRemoveResult, MigrationView, PartitionView } from '@kvstore/kvclient';
import { isMigrationActive } from '@kvstore/protocol';
import { cell, formatTable } from './output';
import { formatCount, progressBar } from './progress';

/** The columns of `cluster status`: one row per member, partition fields repeated so that `grep p0` finds all of a partition's rows (SLOTS: how many of the ring's slots it owns). */
export const CLUSTER_COLUMNS = ['PARTITION', 'SLOTS', 'EPOCH', 'LEADER', 'IN-SYNC', 'MEMBER', 'ROLE', 'LAST-SEQ', 'LAG', 'URL'];

/** Ring order first; a partition with state but off the ring is still shown, last. */
export function clusterRows(view: ClusterView): string[][] {
  const known = new Map(view.partitions.map((partition) => [partition.name, partition]));
  const offRing = view.partitions
    .map((partition) => partition.name)
    .filter((name) => !view.ring.partitions.includes(name));
  return [...view.ring.partitions, ...offRing].flatMap((name) => partitionRows(name, view.ring.slots?.[name], known.get(name)));
}

/** The running or last migration, if any, then the table of members, then a line per malformed record in ZooKeeper. */
export function formatClusterTable(view: ClusterView): string {
  const count = new Set([...view.ring.partitions, ...view.partitions.map((partition) => partition.name)]).size;
  const header = `cluster ${view.cluster}, ring version ${view.ring.version}${view.ring.sealed ? ' (sealed)' : ''}, ${count} partition(s)`;
  const migration = view.migration ? [formatMigration(view.migration)] : [];
  const problems = (view.problems ?? []).map((problem) => `malformed record at ${problem.path}: ${problem.error}`);
  return [header, ...migration, '', formatTable(CLUSTER_COLUMNS, clusterRows(view)), ...(problems.length > 0 ? ['', ...problems] : [])].join('\n');
}

function partitionRows(name: string, slots: number | undefined, partition: PartitionView | undefined): string[][] {
  const owned = cell(slots);
  if (!partition) return [[name, owned, '-', '-', '-', '-', '(no state)', '-', '-', '-']];
  const shared = [name, owned, String(partition.epoch), cell(partition.leader), cell(partition.isr.join(','))];
  if (partition.members.length === 0) return [[...shared, '-', '(no live replica)', '-', '-', '-']];
  return partition.members.map((member) => [...shared, member.id, member.role, cell(member.lastSeq), cell(member.lag), cell(member.url)]);
}

function isMoving(view: MigrationView): boolean {
  return isMigrationActive(view.state);
}

function describeMigration(view: MigrationView): string {
  return `migration ${view.id} (${view.kind}${view.partition === null ? '' : ` ${view.partition}`})`;
}

/** `3m 4s`, `1h 2m`, `5s`; `unknown` for null. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return 'unknown';
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${whole % 60}s`;
  return `${Math.floor(whole / 3600)}h ${Math.floor((whole % 3600) / 60)}m`;
}

/** One line (and one more per blocked partition): `migration <id> (add p2): running, 512/1,365 slots, 10,240 keys, ...`. */
export function formatMigration(view: MigrationView): string {
  const parts = [view.state, `${formatCount(view.slotsMoved)}/${formatCount(view.slotsTotal)} slots`, `${formatCount(view.keysMoved)} keys`];
  if (isMoving(view)) parts.push(`${formatCount(view.keysPerSecond)} keys/s`, `ETA ${formatDuration(view.etaSeconds)}`);
  parts.push(`pauses ${formatCount(view.pauseMsMean)} ms mean, ${formatCount(view.pauseMsMax)} ms worst`);
  const blocked = view.blocked.map((source) => `\n  blocked at ${source.partition}: ${source.reason}`).join('');
  return `${describeMigration(view)}: ${parts.join(', ')}${blocked}`;
}

/** The line a terminal redraws while it watches: the bar, slots, keys, rate, ETA and worst pause. */
export function formatMigrationProgress(view: MigrationView): string {
  const eta = isMoving(view) ? `  ETA ${formatDuration(view.etaSeconds)}` : '';
  return (
    `${describeMigration(view)} ${view.state}${progressBar(view.slotsMoved, view.slotsTotal)} ` +
    `${formatCount(view.slotsMoved)}/${formatCount(view.slotsTotal)} slots  ${formatCount(view.keysMoved)} keys  ` +
    `${formatCount(view.keysPerSecond)} keys/s${eta}  worst pause ${formatCount(view.pauseMsMax)} ms` +
    (view.blocked.length > 0 ? `  blocked at ${view.blocked.map((source) => source.partition).join(',')}` : '')
  );
}

/** What `remove-partition --force` gave up. */
export function formatForcedRemoval(result: ForceRemoveResult): string {
  const keys =
    result.keysGivenUp === null
      ? `; how many keys is unknown (no replica of ${result.partition} answered)`
      : ` and ${formatCount(result.keysGivenUp)} keys`;
  return `removed ${result.partition} by force (ring version ${result.ringVersion}): gave up ${formatCount(result.slotsGivenUp)} slots${keys}`;
}
