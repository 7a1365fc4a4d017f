import type { SnapshotRecord } from './kv-store';

/**
 * A log entry, numbered by the partition's sequence and stamped with the
 * leader's epoch. A write's version is its seq plus the partition's version
 * offset (raised by imports, so a key's version never goes backwards when
 * its slot moves here; 0 on a partition that never imported).
 *
 * `noop` is the entry a new leader appends when it takes over, so that the
 * tail it inherited is committed before it serves strong reads (as in Raft).
 * `expire` is the leader's decision, by its clock, that the value written at
 * `version` has outlived its TTL: replicas never judge expiry by their own
 * clocks, so they all hold the same state at the same sequence number.
 *
 * Resharding (docs/resharding.md): `fence` moves the right to write `slots`
 * away from this partition (from here on it serves none of their keys);
 * `unfence` gives it back (an aborted move); `import` brings slots' data
 * from another partition (the first chunk of a move, `clear`, drops
 * whatever this partition still held of them and unfences them); `purge`
 * drops keys of slots that moved away (only while they are still fenced).
 */
export type Operation =
  | { type: 'put'; key: string; value: Buffer; expiresAt: number | null }
  | { type: 'delete'; key: string }
  | { type: 'expire'; key: string; version: number }
  | { type: 'noop' }
  | { type: 'fence'; slots: number[] }
  | { type: 'unfence'; slots: number[] }
  | { type: 'import'; slots: number[]; clear: boolean; versionFloor: number; records: SnapshotRecord[] }
  | { type: 'purge'; keys: string[] };

/** The resharding operations: they concern slots, not one key. */
export type SlotOperation = Extract<Operation, { type: 'fence' | 'unfence' | 'import' | 'purge' }>;

/** The operations that write one key. */
export type KeyOperation = Extract<Operation, { key: string }>;

export interface LogEntry {
  seq: number;
  epoch: number;
  op: Operation;
}

export function entryBytes(entry: LogEntry): number {
  const { op } = entry;
  switch (op.type) {
    case 'put':
      return op.value.length + op.key.length + 64;
    case 'import':
      return op.records.reduce((bytes, record) => bytes + record.value.length + Buffer.byteLength(record.key) + 32, 64 + op.slots.length * 8);
    case 'purge':
      return op.keys.reduce((bytes, key) => bytes + Buffer.byteLength(key) + 8, 64);
    case 'fence':
    case 'unfence':
      return 64 + op.slots.length * 8;
    default:
      return 64;
  }
}
