import type { Clock } from '../clock';
import type { KvStore } from './kv-store';
import type { ReplicationLog } from './log';
import type { PeerTransport } from './transport';

export interface Member {
  id: string;
  url: string;
  /**
   * Which registration of the replica this is (its ZooKeeper member node). A
   * replica that restarts registers anew, maybe before its old node is gone,
   * and must not be taken for the process the leader knew.
   */
  incarnation?: string;
}

export type ReplicationMode = 'sync' | 'async';

export interface ReplicationOptions {
  mode: ReplicationMode;
  /** Writes are refused (503) while the in-sync set, leader included, is smaller. */
  minInsync: number;
  writeTimeoutMs: number;
  /** A follower that does not answer within this is dropped from the in-sync set. */
  replicaTimeoutMs: number;
  maxBatchEntries: number;
  maxBatchBytes: number;
  /** Append requests a leader keeps in flight to one follower once it is caught up (one while probing); at least 1. */
  maxAppendsInFlight: number;
  /** The log is compacted once it holds more committed entries than this, or more bytes than maxLogBytes. */
  maxLogEntries: number;
  maxLogBytes: number;
  retryBackoffMs: number;
  /**
   * Writes are refused (503) while this many entries, or about this many
   * bytes, wait in the log uncommitted (say, a follower is gone and
   * ZooKeeper is down so it cannot be removed): the backlog stays bounded.
   */
  maxUncommittedEntries: number;
  maxUncommittedBytes: number;
  /**
   * A leader cut off from ZooKeeper for longer than this stops acknowledging
   * writes and answering strong reads. Shorter than the session timeout, so
   * it stops before another replica can be elected in its place.
   */
  zooKeeperLeaseMs: number;
  /** How often the leader looks for values whose TTL has run out, and expires them through the log. */
  expiryIntervalMs: number;
  /**
   * Sync mode: a follower that acknowledges an append promises not to start
   * a term of its own for this long, so a leader whose every in-sync
   * follower acknowledged an append it sent less than this ago (less a
   * margin for clock rates) answers strong reads without a round of its
   * own. 0: every strong read takes a round (etcd's ReadIndex).
   */
  readLeaseMs: number;
}

export const DEFAULT_REPLICATION_OPTIONS: ReplicationOptions = {
  mode: 'sync',
  minInsync: 1,
  writeTimeoutMs: 1000,
  replicaTimeoutMs: 500,
  maxBatchEntries: 1024,
  maxBatchBytes: 4 * 1024 * 1024,
  maxAppendsInFlight: 4,
  maxLogEntries: 20_000,
  maxLogBytes: 64 * 1024 * 1024,
  retryBackoffMs: 50,
  maxUncommittedEntries: 10_000,
  maxUncommittedBytes: 256 * 1024 * 1024,
  zooKeeperLeaseMs: 2500,
  expiryIntervalMs: 1000,
  // Off for the core alone (every term starts at once); kvserver turns it on (--read-lease).
  readLeaseMs: 0,
};

/**
 * One change to the in-sync set. An added member's incarnation is stored
 * beside its id, so a replica that restarted since (a new incarnation) is
 * known not to have proven it holds the data. An excluded member is removed
 * and kept out (maintenance) until an operator restores it.
 */
export type IsrChange = { add: Member } | { remove: string } | { exclude: string };

/** The leader's handle on `/state` in ZooKeeper. */
export interface IsrCoordination {
  /**
   * Applies `change` to the in-sync set by compare-and-set, only while the
   * state still names this replica leader at `epoch`; rejects with
   * DeposedError otherwise. Resolves to the new set.
   */
  updateIsr(epoch: number, change: IsrChange): Promise<string[]>;
  /**
   * A planned transfer: in one write, `/state` names no leader and names
   * `target` (which must be in the in-sync set there, and still registered
   * as `target.incarnation`) as the only replica that may campaign, and
   * this leader's `/leader` node goes. Rejects with DeposedError once the
   * state no longer names this replica leader at `epoch`, and with a plain
   * Error when the target is no longer in sync or registered.
   */
  handOver(epoch: number, target: Member): Promise<void>;
}

export class DeposedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeposedError';
  }
}

export interface Logger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
  debug(object: object, message?: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * What the core reports as it happens, for the program's metrics: the core
 * knows no metrics library. Calls are cheap and never fail.
 */
export interface ReplicationObserver {
  /** A newer epoch (a new leader's term) was seen. */
  epochChanged(epoch: number): void;
  /** This leader opened a snapshot of its state (for a follower catching up, or an operator's backup). */
  snapshotServed(): void;
  /** A snapshot from the leader was installed here. */
  snapshotInstalled(): void;
  /** The leader looked for values whose TTL ran out and expired `expired` of them through the log. */
  expirySweep(expired: number): void;
  /** The leader answered a strong read on its read lease, or after a round to the in-sync set. */
  strongRead(path: 'lease' | 'round'): void;
}

/** What a replica and each of its terms as leader run on: its own log and state, and the edges to the world. */
export interface ReplicationDeps {
  self: Member;
  log: ReplicationLog;
  store: KvStore;
  clock: Clock;
  transport: PeerTransport;
  coordination: IsrCoordination;
  options: ReplicationOptions;
  logger: Logger;
  /** Without one, nothing is reported. */
  observer?: ReplicationObserver;
}
