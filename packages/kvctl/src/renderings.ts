/** How each command's result looks as a table, plain rows, json and text (output.ts). */
import { isUtf8 } from 'node:buffer';
import type { ClusterView, DeleteResult, ForceRemoveResult, GetResult, LeaderTransferResult, MemberChangeResult, MigrationView, PutResult } from '@kvstore/kvclient';
import type { BackupResult, RestoreResult } from './backup';
import { CLUSTER_COLUMNS, clusterRows, formatClusterTable, formatForcedRemoval, formatMigration } from './format';
import { cell, type Rendering } from './output';

export const PUT: Rendering<PutResult> = {
  columns: ['KEY', 'VERSION'],
  rows: (result) => [[result.key, String(result.version)]],
  text: (result) => String(result.version),
};

/**
 * The value as text when it is valid UTF-8, else as base64, which ENCODING
 * (and `encoding` in json) then says. `get` without --output writes the
 * exact bytes instead.
 */
export const GET: Rendering<GetResult> = {
  columns: ['KEY', 'VERSION', 'PARTITION', 'REPLICA', 'ENCODING', 'VALUE'],
  rows: (result) => {
    const { value, encoding } = valueText(result.value);
    return [[result.key, String(result.version), cell(result.partition), cell(result.replica), encoding, value]];
  },
  json: (result) => {
    const { value, encoding } = valueText(result.value);
    return {
      key: result.key,
      value,
      ...(encoding === 'base64' ? { encoding } : {}),
      version: result.version,
      partition: result.partition,
      replica: result.replica,
    };
  },
};

function valueText(value: Buffer): { value: string; encoding: 'utf8' | 'base64' } {
  return isUtf8(value) ? { value: value.toString('utf8'), encoding: 'utf8' } : { value: value.toString('base64'), encoding: 'base64' };
}

export const DELETE: Rendering<DeleteResult> = {
  columns: ['KEY', 'DELETED', 'VERSION'],
  rows: (result) => [[result.key, String(result.deleted), String(result.version)]],
  text: (result) => (result.deleted ? 'deleted' : 'absent'),
};

export const CLUSTER: Rendering<ClusterView> = {
  columns: CLUSTER_COLUMNS,
  rows: clusterRows,
  text: formatClusterTable,
};

const MIGRATION_COLUMNS = [
  'ID', 'KIND', 'PARTITION', 'STATE', 'SLOTS-MOVED', 'SLOTS-TOTAL', 'KEYS-MOVED', 'KEYS/S', 'ETA-S', 'PAUSE-MEAN-MS', 'PAUSE-MAX-MS', 'BLOCKED',
];

/** A migration (none: no rows, `null` in json), its text a line with `say` before it. */
export function migrationRendering(say = ''): Rendering<MigrationView | null> {
  return {
    columns: MIGRATION_COLUMNS,
    rows: (view) => (view ? [migrationRow(view)] : []),
    text: (view) => (view ? `${say}${formatMigration(view)}` : 'no migration has run'),
  };
}

function migrationRow(view: MigrationView): string[] {
  const blocked = view.blocked.map((source) => `${source.partition}: ${source.reason}`).join('; ');
  return [
    view.id, view.kind, cell(view.partition), view.state,
    String(view.slotsMoved), String(view.slotsTotal), String(view.keysMoved), String(view.keysPerSecond),
    cell(view.etaSeconds), String(view.pauseMsMean), String(view.pauseMsMax), cell(blocked),
  ];
}

export const FORCED_REMOVAL: Rendering<ForceRemoveResult> = {
  columns: ['PARTITION', 'RING-VERSION', 'SLOTS-GIVEN-UP', 'KEYS-GIVEN-UP'],
  rows: (result) => [[result.partition, String(result.ringVersion), String(result.slotsGivenUp), cell(result.keysGivenUp)]],
  text: formatForcedRemoval,
};

export const BACKUP: Rendering<BackupResult> = {
  columns: ['FILE', 'RECORDS', 'PARTITIONS', 'SECONDS'],
  rows: (result) => [[result.file, String(result.records), cell(partitionsAt(result)), String(result.seconds)]],
  text: (result) => {
    const where = partitionsAt(result);
    return `backed up ${result.records} records of ${result.partitions.length} partitions${where ? ` (${where})` : ''} to ${result.file} in ${result.seconds} s`;
  },
};

/** `p0@12, p1@40`: each partition at the sequence number of its snapshot. */
function partitionsAt(result: BackupResult): string {
  return result.partitions.map((partition) => `${partition.partition}@${partition.seq}`).join(', ');
}

export const RESTORE: Rendering<RestoreResult> = {
  columns: ['FILE', 'RECORDS', 'RESTORED', 'EXPIRED', 'SECONDS'],
  rows: (result) => [[result.file, String(result.records), String(result.restored), String(result.expired), String(result.seconds)]],
  text: (result) => {
    const skipped = result.expired > 0 ? `, ${result.expired} already expired skipped` : '';
    return `restored ${result.restored} of ${result.records} records from ${result.file} in ${result.seconds} s${skipped} (new versions)`;
  },
};

export const LEADER_TRANSFER: Rendering<LeaderTransferResult> = {
  columns: ['PARTITION', 'FROM', 'TO', 'EPOCH'],
  rows: (result) => [[result.partition, result.from, result.to, String(result.epoch)]],
  text: (result) => `${result.partition}: ${result.to} leads (epoch ${result.epoch}), handed over by ${result.from}`,
};

/** A member removed or restored ("removed", "restored"): the partition's in-sync and removed sets after it. */
export function memberChangeRendering(done: string): Rendering<MemberChangeResult> {
  const list = (ids: string[]): string => ids.join(',');
  return {
    columns: ['PARTITION', 'MEMBER', 'IN-SYNC', 'REMOVED'],
    rows: (result) => [[result.partition, result.member, cell(list(result.isr)), cell(list(result.excluded))]],
    text: (result) =>
      `${result.partition}: ${result.member} ${done}; in sync: ${result.isr.join(', ') || '(none)'}; removed: ${result.excluded.join(', ') || '(none)'}`,
  };
}
