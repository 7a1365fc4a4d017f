import type { SlotState, SnapshotRecord } from './kv-store';
import type { LogEntry } from './entry';

/** Leader → follower: entries after (prevSeq, prevEpoch), and how far the leader has committed. */
export interface AppendRequest {
  epoch: number;
  leaderId: string;
  leaderUrl: string;
  prevSeq: number;
  prevEpoch: number;
  commitSeq: number;
  entries: LogEntry[];
}

export type AppendResponse =
  /** The follower's log now matches the leader's up to matchSeq. */
  | { ok: true; epoch: number; matchSeq: number }
  /** The sender's epoch is older than the follower's: the sender is no longer leader. */
  | { ok: false; reason: 'stale-epoch'; epoch: number }
  /** The follower's log does not hold (prevSeq, prevEpoch); retry from at most lastSeq + 1. */
  | { ok: false; reason: 'mismatch'; epoch: number; lastSeq: number }
  /** The follower cannot take entries now (shutting down, or installing a snapshot): retry later. */
  | { ok: false; reason: 'busy'; epoch: number }
  /**
   * The sender's epoch is newer than any the follower has seen in ZooKeeper's
   * `/state`. A real new leader's epoch reaches the follower's watch within
   * moments, so the leader retries; an epoch nobody won (a forged frame) is
   * never accepted, and never raises the follower's epoch.
   */
  | { ok: false; reason: 'unknown-epoch'; epoch: number };

/** Leader → follower: fetch my snapshot, you are too far behind for the log. */
export interface InstallSnapshotRequest {
  epoch: number;
  leaderId: string;
  leaderUrl: string;
}

/** A snapshot being read on the leader: the state as of (seq, epoch), its records read lazily. */
export interface SnapshotSource {
  seq: number;
  epoch: number;
  slots: SlotState;
  records: Iterable<SnapshotRecord>;
  /** Releases the consistent read view the records come from. */
  close(): void;
}

/** A snapshot being received by a follower, chunk by chunk. */
export interface SnapshotStream {
  seq: number;
  epoch: number;
  slots: SlotState;
  chunks: AsyncIterable<SnapshotRecord[]>;
}
