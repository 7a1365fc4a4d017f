import type { LogEntry } from './entry';
import type { SnapshotSource } from './messages';

export interface StoredValue {
  value: Buffer;
  version: number;
  /** Absolute expiry in ms since the epoch, set by the leader; null for no expiry. */
  expiresAt: number | null;
}

/** A value written with a TTL: the write's version, and when it expires. */
export interface ExpiryCandidate {
  key: string;
  version: number;
  expiresAt: number;
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
  /**
   * The value of `key` as the log made it. A value past its expiry is still
   * here until the leader's `expire` entry is applied: no replica judges
   * expiry by its own clock.
   */
  get(key: string): StoredValue | undefined;
  apply(entry: LogEntry): void;
  /** A consistent view of every record, for a follower; later applies do not show through. */
  openSnapshot(): SnapshotSource;
  /** Resolves once everything applied so far is in what openSnapshot reads. */
  settled(): Promise<void>;
  /** Starts replacing the whole state by a snapshot: the state is empty until finishRestore. */
  beginRestore(): void;
  restoreRecords(records: readonly SnapshotRecord[]): void;
  finishRestore(seq: number, epoch: number, slots: SlotState): void;
  /** Up to `limit` values whose expiry is at or before `nowMs`: what the leader should expire next. */
  dueForExpiry(nowMs: number, limit: number): ExpiryCandidate[];
  /** Slot ownership as the applied log made it: fenced slots, and the version offset. */
  readonly slots: SlotState;
  /** How many keys the state holds in `slot`. */
  keysInSlot(slot: number): number;
  /** Every record in `slots`, as applied (values past their expiry included: the expiry travels with them). */
  recordsInSlots(slots: readonly number[]): SnapshotRecord[];
  /** Up to `limit` keys in `slots`. */
  someKeysInSlots(slots: readonly number[], limit: number): string[];
}

/** The part of a partition's state that resharding adds (replicated, persisted, and carried by snapshots). */
export interface SlotState {
  /** Slots whose keys this partition must no longer serve or write: they moved, or are moving, away. */
  fenced: ReadonlySet<number>;
  /** Added to a write's seq to make its version; raised by imports above the versions they bring. */
  versionOffset: number;
}

export function isLive(value: StoredValue, nowMs: number): boolean {
  return value.expiresAt === null || value.expiresAt > nowMs;
}
