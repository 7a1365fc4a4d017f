/**
 * A log entry: one write, numbered by the partition's sequence (which is
 * also the written key's version) and stamped with the leader's epoch.
 * `noop` is the entry a new leader appends when it takes over, so that the
 * tail it inherited is committed before it serves strong reads (as in Raft).
 * `expire` is the leader's decision, by its clock, that the value written at
 * `version` has outlived its TTL: replicas never judge expiry by their own
 * clocks, so they all hold the same state at the same sequence number.
 */
export type Operation =
  | { type: 'put'; key: string; value: Buffer; expiresAt: number | null }
  | { type: 'delete'; key: string }
  | { type: 'expire'; key: string; version: number }
  | { type: 'noop' };

export interface LogEntry {
  seq: number;
  epoch: number;
  op: Operation;
}

export function entryBytes(entry: LogEntry): number {
  return entry.op.type === 'put' ? entry.op.value.length + entry.op.key.length + 64 : 64;
}
