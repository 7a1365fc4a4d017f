import type { LogEntry } from '../replication/entry';

export interface StoredValue {
  value: Buffer;
  version: number;
  /** Absolute expiry in ms since the epoch, set by the leader; null for no expiry. */
  expiresAt: number | null;
}

export interface SnapshotRecord extends StoredValue {
  key: string;
}

/**
 * The key-value state a replica serves reads from: every committed log
 * entry applied in order. The memory store is the first implementation; a
 * durable one (issue 3) sits behind the same interface.
 */
export interface KvStore {
  /** The sequence number of the last entry applied. */
  readonly appliedSeq: number;
  readonly size: number;
  /** The live value of `key` at time `nowMs`; expired values are absent. */
  get(key: string, nowMs: number): StoredValue | undefined;
  apply(entry: LogEntry): void;
  /** Every live record, as of appliedSeq; taken in one go so later applies do not show through. */
  snapshot(nowMs: number): SnapshotRecord[];
  /** Replaces the whole state by a snapshot taken at `seq`. */
  restore(seq: number, records: Iterable<SnapshotRecord>): void;
  /** Drops expired values; returns how many. */
  sweepExpired(nowMs: number): number;
}

export function isLive(value: StoredValue, nowMs: number): boolean {
  return value.expiresAt === null || value.expiresAt > nowMs;
}
