import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ZkSession, abortMigration, beginMigration, forceRemovePartition, type ZkClient, type ZkOp } from '@kvstore/cluster';
import {
  KvError,
  Ring,
  clusterPaths,
  encodeRecord,
  parseMigration,
  parseRing,
  placeSlots,
  ringRecord,
  type ClusterPaths,
  type ErrorCode,
  type MigrationRecord,
  type RingRecord,
} from '@kvstore/protocol';
import { uniqueClusterName, zookeeperForTests } from '@kvstore/testkit';

const NOW = 1_700_000_000_000;

function refusedWith(code: ErrorCode, message: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof KvError && error.code === code && message.test(error.message);
}

/** The session, with `beforeMulti` run before each multi it sends (to change ZooKeeper between a read and a write). */
function racing(session: ZkClient, beforeMulti: () => Promise<void>): ZkClient {
  return new Proxy(session, {
    get(target, property) {
      if (property === 'multi') {
        return async (ops: readonly ZkOp[]) => {
          await beforeMulti();
          return target.multi(ops);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('migrations in ZooKeeper: one at a time, every write at the versions read', () => {
  let session: ZkSession;
  let other: ZkSession;

  before(async () => {
    const { connectString } = await zookeeperForTests();
    session = await ZkSession.connect(connectString, { sessionTimeoutMs: 5000 });
    other = await ZkSession.connect(connectString, { sessionTimeoutMs: 5000 });
  });
  after(() => {
    session.close();
    other.close();
  });

  /** A new cluster whose ring is the placement of p0 and p1, sealed. */
  async function newCluster(prefix: string): Promise<{ cluster: string; paths: ClusterPaths; start: RingRecord }> {
    const cluster = uniqueClusterName(prefix);
    const paths = clusterPaths(cluster);
    const start = ringRecord(3, placeSlots(['p0', 'p1']), { sealed: true });
    await session.mkdirp(paths.root);
    await session.create(paths.ring, encodeRecord(start), 'persistent');
    return { cluster, paths, start };
  }

  const ringOf = async (paths: ClusterPaths): Promise<{ record: RingRecord; version: number }> => {
    const node = (await session.getData(paths.ring))!;
    return { record: parseRing(node.data), version: node.version };
  };
  const migrationOf = async (paths: ClusterPaths): Promise<MigrationRecord> => parseMigration((await session.getData(paths.migration))!.data);

  /** What a source's driver does at the end: the state it reaches, with finishedAt. */
  async function finish(paths: ClusterPaths, state: 'done' | 'aborted'): Promise<void> {
    const node = (await session.getData(paths.migration))!;
    await session.setData(paths.migration, encodeRecord({ ...parseMigration(node.data), state, finishedAt: NOW + 1 }), node.version);
  }

  it('starts an add in one write: the migration running, the partition listed on the next ring, no slot moved', async () => {
    const { cluster, paths, start } = await newCluster('mig-add');
    const plan = await beginMigration(session, cluster, { kind: 'add', partition: 'p2' }, NOW);
    const stored = await migrationOf(paths);
    assert.deepEqual(stored, plan.migration);
    assert.deepEqual([stored.state, stored.kind, stored.partition, stored.startedAt], ['running', 'add', 'p2', NOW]);
    const ring = await ringOf(paths);
    assert.deepEqual(ring.record, plan.ring);
    assert.equal(ring.record.version, start.version + 1);
    assert.deepEqual(ring.record.partitions, ['p0', 'p1', 'p2']);
    assert.deepEqual(new Ring(ring.record).slotOwners(), new Ring(start).slotOwners());
    assert.deepEqual(await session.getChildren(paths.progress), []);
  });

  it('refuses a second migration, and a forced removal, with CONFLICT while one runs or aborts, changing nothing', async () => {
    const { cluster, paths } = await newCluster('mig-conflict');
    const plan = await beginMigration(session, cluster, { kind: 'add', partition: 'p2' }, NOW);
    const before = await ringOf(paths);
    const running = new RegExp(`migration ${plan.migration.id} \\(add p2\\) is running: wait for it to finish, or abort it`);
    await assert.rejects(beginMigration(session, cluster, { kind: 'rebalance' }, NOW), refusedWith('CONFLICT', running));
    await assert.rejects(forceRemovePartition(session, cluster, 'p1'), refusedWith('CONFLICT', /is running: abort it and let the abort finish/));

    const aborting = await abortMigration(session, cluster);
    assert.equal(aborting.state, 'aborting');
    assert.deepEqual(aborting.target, plan.migration.original);
    assert.deepEqual(await migrationOf(paths), aborting);
    assert.deepEqual(await abortMigration(session, cluster), aborting, 'aborting again changes nothing');
    await assert.rejects(beginMigration(session, cluster, { kind: 'add', partition: 'p3' }, NOW), refusedWith('CONFLICT', /is aborting/));
    assert.deepEqual(await ringOf(paths), before);
  });

  it('abort is a CONFLICT when no migration runs', async () => {
    const { cluster, paths } = await newCluster('mig-abort');
    await assert.rejects(abortMigration(session, cluster), refusedWith('CONFLICT', /no migration has run in cluster .*: there is nothing to abort/));
    await beginMigration(session, cluster, { kind: 'add', partition: 'p2' }, NOW);
    await finish(paths, 'done');
    await assert.rejects(abortMigration(session, cluster), refusedWith('CONFLICT', /\(add p2\) is done: there is nothing to abort/));
  });

  it('a new migration replaces a finished one and clears its progress records', async () => {
    const { cluster, paths } = await newCluster('mig-replace');
    const first = await beginMigration(session, cluster, { kind: 'add', partition: 'p2' }, NOW);
    await session.create(paths.progressOf('p0'), encodeRecord({ migration: first.migration.id, slotsMoved: 1, keysMoved: 1, bytesMoved: 1, pauseMsMax: 1, pauseMsTotal: 1, pauses: 1, updatedAt: NOW }), 'persistent');
    await abortMigration(session, cluster);
    await finish(paths, 'aborted');
    // p2 is listed but owns nothing after the abort: it may be added again.
    const second = await beginMigration(session, cluster, { kind: 'add', partition: 'p2' }, NOW + 5);
    assert.notEqual(second.migration.id, first.migration.id);
    assert.deepEqual(await migrationOf(paths), second.migration);
    assert.deepEqual(await session.getChildren(paths.progress), []);
  });

  it('a write that loses a race is planned again from fresh reads: on the ring as it is now', async () => {
    const { cluster, paths, start } = await newCluster('mig-race');
    let raced = false;
    // Another hand takes p1 off the ring between the reads and the write.
    const session2 = racing(session, async () => {
      if (raced) return;
      raced = true;
      await forceRemovePartition(other, cluster, 'p1');
    });
    const plan = await beginMigration(session2, cluster, { kind: 'add', partition: 'p2' }, NOW);
    assert.ok(raced);
    const ring = await ringOf(paths);
    assert.equal(ring.record.version, start.version + 2, 'the forced removal, then the start');
    assert.deepEqual(ring.record.partitions, ['p0', 'p2']);
    assert.ok(plan.migration.original.every((index) => plan.migration.names[index] === 'p0'), 'planned on the ring without p1');
  });

  it('two starts at once: exactly one runs, the other is told which', async () => {
    const { cluster, paths } = await newCluster('mig-two');
    const results = await Promise.allSettled([
      beginMigration(session, cluster, { kind: 'add', partition: 'p2' }, NOW),
      beginMigration(other, cluster, { kind: 'add', partition: 'p3' }, NOW),
    ]);
    const won = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const lost = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok(refusedWith('CONFLICT', new RegExp(`migration ${won[0]!.migration.id} .* is running`))(lost[0]));
    assert.deepEqual(await migrationOf(paths), won[0]!.migration);
  });

  it('gives up with UNAVAILABLE when its write loses every race', async () => {
    const { cluster, paths } = await newCluster('mig-contended');
    let bumps = 0;
    const session2 = racing(session, async () => {
      bumps++;
      const node = (await other.getData(paths.ring))!;
      await other.setData(paths.ring, node.data, node.version);
    });
    await assert.rejects(beginMigration(session2, cluster, { kind: 'add', partition: 'p2' }, NOW), refusedWith('UNAVAILABLE', /kept changing under it 20 times/));
    assert.equal(bumps, 20);
    assert.equal(await session.getData(paths.migration), undefined);
  });

  it('removes a dead partition by force: its slots to the others, the count given up, refusals for strangers and the last one', async () => {
    const { cluster, paths, start } = await newCluster('mig-force');
    const owned = new Ring(start).slotCounts().get('p1')!;
    const removal = await forceRemovePartition(session, cluster, 'p1');
    assert.equal(removal.slotsGivenUp, owned);
    const ring = await ringOf(paths);
    assert.deepEqual(ring.record, removal.ring);
    assert.deepEqual(new Ring(ring.record).slotCounts(), new Map([['p0', 4096]]));
    await assert.rejects(forceRemovePartition(session, cluster, 'p7'), refusedWith('BAD_REQUEST', /p7 is not on the ring/));
    await assert.rejects(forceRemovePartition(session, cluster, 'p0'), refusedWith('BAD_REQUEST', /last partition that owns slots/));
    await assert.rejects(beginMigration(session, uniqueClusterName('mig-none'), { kind: 'rebalance' }, NOW), refusedWith('BAD_REQUEST', /has no ring yet/));
  });
});
