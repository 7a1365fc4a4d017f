import type { LeaderRecord, MemberRecord, MigrationRecord, ProgressRecord, RingRecord, StateRecord } from '@kvstore/protocol';

/** What ZooKeeper says about one partition, as last read. */
export interface PartitionRecords {
  /** The ephemeral `/leader` record; absent while no replica leads. */
  leader?: LeaderRecord;
  state?: StateRecord;
  /** Live replicas (`/members/m-<seq>`). */
  members: MemberRecord[];
}

/** An immutable copy of the cluster's records; the watcher builds one per change. */
export interface ClusterSnapshot {
  ring?: RingRecord;
  partitions: ReadonlyMap<string, PartitionRecords>;
}

export const EMPTY_SNAPSHOT: ClusterSnapshot = { partitions: new Map() };

/** What ZooKeeper says about the migration of slots: `/migration`, and `/migration-progress/<source>` by source partition. */
export interface MigrationRecords {
  migration?: MigrationRecord;
  progress: ReadonlyMap<string, ProgressRecord>;
}

export const NO_MIGRATION: MigrationRecords = { progress: new Map() };
