/** How results are shown: the cluster table, and `get --json`. */
import { isUtf8 } from 'node:buffer';
import type { ClusterView, GetResult, PartitionView } from '@kvstore/kvclient';

const COLUMNS = ['PARTITION', 'EPOCH', 'LEADER', 'IN-SYNC', 'MEMBER', 'ROLE', 'LAST-SEQ', 'LAG', 'URL'];

/**
 * One row per member, partition fields repeated so that `grep p0` finds all
 * of a partition's rows; then a line per malformed record in ZooKeeper.
 */
export function formatClusterTable(view: ClusterView): string {
  const known = new Map(view.partitions.map((partition) => [partition.name, partition]));
  // Ring order first; a partition with state but off the ring is still shown, last.
  const offRing = view.partitions
    .map((partition) => partition.name)
    .filter((name) => !view.ring.partitions.includes(name));
  const names = [...view.ring.partitions, ...offRing];
  const rows = names.flatMap((name) => partitionRows(name, known.get(name)));
  const header = `cluster ${view.cluster}, ring version ${view.ring.version}, ${names.length} partition(s)`;
  const problems = (view.problems ?? []).map((problem) => `malformed record at ${problem.path}: ${problem.error}\n`);
  return `${header}\n\n${alignColumns([COLUMNS, ...rows])}\n${problems.length > 0 ? `\n${problems.join('')}` : ''}`;
}

function partitionRows(name: string, partition: PartitionView | undefined): string[][] {
  if (!partition) return [[name, '-', '-', '-', '-', '(no state)', '-', '-', '-']];
  const shared = [name, String(partition.epoch), partition.leader ?? '-', partition.isr.join(',') || '-'];
  if (partition.members.length === 0) return [[...shared, '-', '(no live replica)', '-', '-', '-']];
  return partition.members.map((member) => [
    ...shared,
    member.id,
    member.role,
    member.lastSeq === null ? '-' : String(member.lastSeq),
    member.lag === null ? '-' : String(member.lag),
    member.url,
  ]);
}

function alignColumns(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

/** The value as text when it is valid UTF-8, else as base64 with an `encoding` field saying so. */
export function formatGetJson(result: GetResult): string {
  const text = isUtf8(result.value);
  return JSON.stringify({
    key: result.key,
    value: result.value.toString(text ? 'utf8' : 'base64'),
    ...(text ? {} : { encoding: 'base64' }),
    version: result.version,
    partition: result.partition,
    replica: result.replica,
  });
}
