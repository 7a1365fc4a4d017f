import type { LogEntry } from '../replication/entry';
import type { SnapshotSource } from '../replication/messages';

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
 * entry applied in order. Two implementations: in memory (a cache, the
 * default) and on disk (LMDB, with --data-dir).
 */
export interface KvStore {
  /** The sequence number and epoch of the last entry applied. */
  readonly appliedSeq: number;
  readonly appliedEpoch: number;
  readonly size: number;
  /** Why writes can no longer be persisted (a full disk, say); undefined while all is well. */
  readonly failure: Error | undefined;
  /** The live value of `key` at time `nowMs`; expired values are absent. */
  get(key: string, nowMs: number): StoredValue | undefined;
  apply(entry: LogEntry): void;
  /** A consistent view of every live record, for a follower; later applies do not show through. */
  openSnapshot(nowMs: number): SnapshotSource;
  /** Resolves once everything applied so far is in what openSnapshot reads. */
  settled(): Promise<void>;
  /** Starts replacing the whole state by a snapshot: the state is empty until finishRestore. */
  beginRestore(): void;
  restoreRecords(records: readonly SnapshotRecord[]): void;
  finishRestore(seq: number, epoch: number): void;
  /** Drops expired values; returns how many. */
  sweepExpired(nowMs: number): number;
}

export function isLive(value: StoredValue, nowMs: number): boolean {
  return value.expiresAt === null || value.expiresAt > nowMs;
}
