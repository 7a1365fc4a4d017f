import type { ZkClient } from '@kvstore/cluster';
import type { MigrationRecord, Ring, RingRecord } from '@kvstore/protocol';

/** What a replica last read of the cluster's routing records, and its session (PartitionCoordinator). */
export interface RoutingRecords {
  readonly currentRing: Ring | undefined;
  readonly currentMigration: MigrationRecord | undefined;
  /** The session, while connected. */
  zk(): ZkClient | undefined;
  /** A ring this replica wrote itself: newer than the watch's view until the watch reads it. */
  adoptRing(record: RingRecord): void;
}
