import { randomUUID } from 'node:crypto';
import {
  Ring,
  RecordError,
  badRequest,
  clusterPaths,
  conflict,
  encodeRecord,
  forceRemove,
  parseMigration,
  parseRing,
  planMigration,
  timeout,
  unavailable,
  type ClusterPaths,
  type ForcedRemoval,
  type MigrationPlan,
  type MigrationRecord,
  type MigrationRequest,
  type RingRecord,
  isMigrationActive,
} from '@kvstore/protocol';
import { ZkError, type ZkClient, type ZkOp } from './session';

/**
 * Starting, aborting and forcing migrations of slots in ZooKeeper
 * (`/migration`, `/ring`, `/migration-progress`), for the gate's admin
 * routes and for a replica whose new partition joins. Every change is one
 * write at the versions read, retried from a fresh read when something
 * else changed in between. Starting a migration always writes `/ring`
 * (at the version read, even unchanged), so a start and any other change
 * of the ring (a forced removal, a source flipping slots) cannot both
 * succeed on the same reading.
 */

/** Fresh reads and writes before giving up on a contended node. */
const MAX_ATTEMPTS = 20;

interface Read<T> {
  record: T;
  /** The node's version, for the compare-and-set. */
  version: number;
}

/** Refused while one of these runs: one migration at a time. */
function isActive(migration: MigrationRecord): boolean {
  return isMigrationActive(migration.state);
}

function describe(migration: MigrationRecord): string {
  return `migration ${migration.id} (${migration.kind}${migration.partition === null ? '' : ` ${migration.partition}`})`;
}

/**
 * Starts the migration that carries out `request`: in one multi, writes
 * `/migration` (created, or replacing a finished one), `/ring` (with an
 * added partition listed) and clears the progress records of the last
 * migration. Refuses with CONFLICT while another migration runs or aborts,
 * and with BAD_REQUEST what planMigration refuses.
 */
export async function beginMigration(session: ZkClient, cluster: string, request: MigrationRequest, now: number): Promise<MigrationPlan> {
  const paths = clusterPaths(cluster);
  const id = randomUUID();
  return withRetries('start the migration', async () => {
    const ring = await readRing(session, paths, cluster);
    const current = await readMigration(session, paths);
    if (current && isActive(current.record)) {
      throw conflict(`${describe(current.record)} is ${current.record.state}: wait for it to finish, or abort it`);
    }
    const progress = await readZk(() => session.getChildren(paths.progress));
    const plan = planMigration(new Ring(ring.record), request, id, now);
    const migration = encodeRecord(plan.migration);
    const returning = request.kind === 'add' && (await readZk(() => session.getData(paths.removed(request.partition))));
    const ops: ZkOp[] = [
      // An operator adds back a partition that was taken off the ring: it is one again.
      ...(returning ? [{ op: 'remove', path: paths.removed(request.partition), version: -1 } as const] : []),
      { op: 'setData', path: paths.ring, data: encodeRecord(plan.ring), version: ring.version },
      current
        ? { op: 'setData', path: paths.migration, data: migration, version: current.version }
        : { op: 'create', path: paths.migration, data: migration, mode: 'persistent' },
      ...(progress
        ? progress.map((name): ZkOp => ({ op: 'remove', path: `${paths.progress}/${name}`, version: -1 }))
        : [{ op: 'create', path: paths.progress, data: Buffer.alloc(0), mode: 'persistent' } as const]),
    ];
    await write(() => session.multi(ops));
    return plan;
  });
}

/**
 * Aborts the running migration: its target becomes where each slot was at
 * the start, and its state `aborting`; the sources then move back what
 * already moved. Aborting one that is already aborting changes nothing.
 * CONFLICT when no migration is running.
 */
export async function abortMigration(session: ZkClient, cluster: string): Promise<MigrationRecord> {
  const paths = clusterPaths(cluster);
  return withRetries('abort the migration', async () => {
    const current = await readMigration(session, paths);
    if (!current) throw conflict(`no migration has run in cluster ${cluster}: there is nothing to abort`);
    const { record } = current;
    if (record.state === 'aborting') return record;
    if (record.state !== 'running') throw conflict(`${describe(record)} is ${record.state}: there is nothing to abort`);
    const aborting: MigrationRecord = { ...record, state: 'aborting', target: [...record.original] };
    await write(() => session.setData(paths.migration, encodeRecord(aborting), current.version));
    return aborting;
  });
}

/**
 * Takes a partition that is dead for good off the ring, giving its slots,
 * without their data, to the placement of the others (forceRemove).
 * CONFLICT while a migration runs or aborts: it may still need the
 * partition's slots where the table has them.
 */
export async function forceRemovePartition(session: ZkClient, cluster: string, partition: string): Promise<ForcedRemoval> {
  const paths = clusterPaths(cluster);
  return withRetries(`remove ${partition}`, async () => {
    const ring = await readRing(session, paths, cluster);
    const current = await readMigration(session, paths);
    if (current && isActive(current.record)) {
      throw conflict(`${describe(current.record)} is ${current.record.state}: abort it and let the abort finish before removing ${partition} by force`);
    }
    const removal = forceRemove(new Ring(ring.record), partition);
    const marks = await removalMarks(session, cluster, [partition]);
    await write(() => session.multi([{ op: 'setData', path: paths.ring, data: encodeRecord(removal.ring), version: ring.version }, ...marks]));
    return removal;
  });
}

/**
 * The ops (for a multi) that mark `partitions` as taken off the ring, so
 * that a replica of one that restarts later does not add it back by itself
 * (`--join auto`); adding it back by hand clears the mark.
 */
export async function removalMarks(session: ZkClient, cluster: string, partitions: readonly string[]): Promise<ZkOp[]> {
  const paths = clusterPaths(cluster);
  const ops: ZkOp[] = [];
  for (const partition of partitions) {
    if (await session.getData(paths.removed(partition))) continue;
    await session.mkdirp(paths.partition(partition));
    ops.push({ op: 'create', path: paths.removed(partition), data: Buffer.alloc(0), mode: 'persistent' });
  }
  return ops;
}

/** Runs `attempt` again from fresh reads while its write loses a race (a node changed, appeared or went away since it was read). */
async function withRetries<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  for (let round = 0; round < MAX_ATTEMPTS; round++) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof LostRace) continue;
      throw error;
    }
  }
  throw unavailable(`could not ${what}: ZooKeeper's records kept changing under it ${MAX_ATTEMPTS} times; try again`);
}

/** A compare-and-set that found the node changed: read again. */
class LostRace extends Error {}

async function readRing(session: ZkClient, paths: ClusterPaths, cluster: string): Promise<Read<RingRecord>> {
  const node = await readZk(() => session.getData(paths.ring));
  if (!node) throw badRequest(`cluster ${cluster} has no ring yet: no partition has started`);
  return { record: parseOrRefuse(paths.ring, () => parseRing(node.data)), version: node.version };
}

async function readMigration(session: ZkClient, paths: ClusterPaths): Promise<Read<MigrationRecord> | undefined> {
  const node = await readZk(() => session.getData(paths.migration));
  return node && { record: parseOrRefuse(paths.migration, () => parseMigration(node.data)), version: node.version };
}

function parseOrRefuse<T>(path: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof RecordError) throw unavailable(`${error.message} at ${path}: fix or remove it first`, error);
    throw error;
  }
}

/** A read that fails changed nothing: not applied. */
async function readZk<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ZkError) throw unavailable(`ZooKeeper: ${error.message}`, error);
    throw error;
  }
}

/** A write that lost its connection may have been applied: its outcome is unknown. */
async function write<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof ZkError)) throw error;
    if (error.code === 'BAD_VERSION' || error.code === 'NODE_EXISTS' || error.code === 'NO_NODE') throw new LostRace();
    if (error.code === 'CONNECTION_LOSS' || error.code === 'SESSION_EXPIRED') {
      throw timeout(`ZooKeeper: ${error.message}; the change may or may not have been made`);
    }
    throw unavailable(`ZooKeeper: ${error.message}`, error);
  }
}
