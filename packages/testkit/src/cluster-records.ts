import { ZkSession, type ZkDigest } from '@kvstore/cluster';
import {
  Ring,
  clusterPaths,
  migrationView,
  parseMigration,
  parseProgress,
  parseRing,
  type MigrationRecord,
  type MigrationView,
  type ProgressRecord,
} from '@kvstore/protocol';

/** A cluster's slot table and migration as ZooKeeper holds them (docs/resharding.md). */
export interface SlotRecords {
  ring: Ring;
  /** `/migration`: the running or last migration; undefined when none has run. */
  migration: MigrationRecord | undefined;
  /** The migration as the gate shows it (`migrationView` of the records read together). */
  view: MigrationView | undefined;
}

/**
 * Reads `/ring`, `/migration` and the progress records straight from
 * ZooKeeper, in a session of its own: it works with every gate down, and
 * throws (a waitFor counts that as "not yet") while ZooKeeper is. `digest`:
 * the cluster's ZooKeeper identity, when its nodes are closed (--zk-auth-file).
 */
export async function readSlotRecords(connectString: string, cluster: string, digest?: ZkDigest): Promise<SlotRecords> {
  const paths = clusterPaths(cluster);
  const session = await ZkSession.connect(connectString, { sessionTimeoutMs: 5000, connectTimeoutMs: 2000, digest });
  try {
    const ringNode = await session.getData(paths.ring);
    if (!ringNode) throw new Error(`${paths.ring} does not exist`);
    const ring = new Ring(parseRing(ringNode.data));
    const migrationNode = await session.getData(paths.migration);
    const migration = migrationNode && parseMigration(migrationNode.data);
    if (!migration) return { ring, migration, view: undefined };
    const progress = new Map<string, ProgressRecord>();
    for (const partition of (await session.getChildren(paths.progress)) ?? []) {
      const node = await session.getData(paths.progressOf(partition));
      if (node) progress.set(partition, parseProgress(node.data));
    }
    const leaders = new Set<string>();
    for (const name of migration.names) if (await session.getData(paths.leader(name))) leaders.add(name);
    return { ring, migration, view: migrationView(migration, ring, progress, Date.now(), (name) => leaders.has(name)) };
  } finally {
    session.close();
  }
}
