import { abortMigration, beginMigration, forceRemovePartition, type ZkClient } from '@kvstore/cluster';
import { Ring, migrationView, type ForceRemoveResult, type MigrationRequest, type MigrationView } from '@kvstore/protocol';
import type { ClusterSnapshot, MigrationRecords } from '../routing/snapshot';
import type { StatusFetcher } from './cluster-view';
import type { RingSummary } from './ring-summary';

/** What the admin routes do about migrations of slots. */
export interface MigrationAdmin {
  /** Starts a migration; its view as it starts. */
  begin(request: MigrationRequest): Promise<MigrationView>;
  /** Takes a dead partition off the ring without moving its data, and says what it gave up. */
  forceRemove(partition: string): Promise<ForceRemoveResult>;
  abort(): Promise<MigrationView>;
  /** The running or last migration; null when there has been none. */
  current(): MigrationView | null;
}

export interface MigrationAdminDeps {
  cluster: string;
  /** The session to write on; throws UNAVAILABLE while there is none. */
  zookeeper(): ZkClient;
  snapshot(): ClusterSnapshot;
  migrationRecords(): MigrationRecords;
  summary(): RingSummary;
  /** Asks a replica how many keys it holds. */
  fetchStatus: StatusFetcher;
  now?: () => number;
}

/**
 * The gate's side of the migration admin: the writes are
 * @kvstore/cluster's (one ZooKeeper write at the versions read); the
 * answers are views of what was written, not of the watcher's next read.
 */
export function migrationAdmin(deps: MigrationAdminDeps): MigrationAdmin {
  const now = deps.now ?? Date.now;
  return {
    async begin(request) {
      const at = now();
      const plan = await beginMigration(deps.zookeeper(), deps.cluster, request, at);
      return migrationView(plan.migration, new Ring(plan.ring), new Map(), at);
    },

    async forceRemove(partition) {
      const members = deps.snapshot().partitions.get(partition)?.members ?? [];
      const [removal, statuses] = await Promise.all([
        forceRemovePartition(deps.zookeeper(), deps.cluster, partition),
        Promise.all(members.map((member) => deps.fetchStatus(member.url).catch(() => undefined))),
      ]);
      const counts = statuses.flatMap((status) => (status?.keys === undefined ? [] : [status.keys]));
      return {
        partition,
        ringVersion: removal.ring.version,
        slotsGivenUp: removal.slotsGivenUp,
        keysGivenUp: counts.length > 0 ? Math.max(...counts) : null,
      };
    },

    async abort() {
      const record = await abortMigration(deps.zookeeper(), deps.cluster);
      const { ring } = deps.snapshot();
      return migrationView(record, new Ring(ring ?? { version: 0, partitions: [] }), deps.migrationRecords().progress, now());
    },

    current: () => deps.summary().migration,
  };
}
