import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { clusterPaths, encodeRecord, type MigrationRecord } from '@kvstore/protocol';
import type { Watch } from '@kvstore/cluster';
import { MemoryZooKeeper, type MemoryZkSession } from '@kvstore/cluster/testing';
import pino from 'pino';
import { RoutingState } from '../src/routing/routing-state';
import type { ClusterSnapshot } from '../src/routing/snapshot';
import { ClusterWatcher } from '../src/zk/cluster-watcher';
import { until, urlOf } from './fixtures';

const paths = clusterPaths('blue');
let watcher: ClusterWatcher | undefined;
/** The routing state of the latest `watched`, before its start has finished. */
let routed: RoutingState | undefined;

afterEach(() => watcher?.stop());

/** A cluster of p0 (a leads epoch 2, a and b members) on an in-memory ZooKeeper, and a watcher on it. */
async function watched(onConnect: (session: MemoryZkSession, count: number) => void = () => undefined, watches: Watch[] = []): Promise<{ zk: MemoryZooKeeper; sessions: MemoryZkSession[]; latest: () => ClusterSnapshot; routing: RoutingState }> {
  const zk = new MemoryZooKeeper();
  zk.write(paths.ring, encodeRecord({ version: 1, partitions: ['p0'] }));
  zk.write(paths.state('p0'), encodeRecord({ epoch: 2, leader: 'a', isr: ['a', 'b'] }));
  zk.write(paths.leader('p0'), encodeRecord({ id: 'a', url: urlOf('a'), epoch: 2 }));
  zk.write(`${paths.members('p0')}/m-0000000001`, encodeRecord({ id: 'a', url: urlOf('a') }));
  zk.write(`${paths.members('p0')}/m-0000000002`, encodeRecord({ id: 'b', url: urlOf('b') }));
  const sessions: MemoryZkSession[] = [];
  const routing = new RoutingState();
  routed = routing;
  let latest: ClusterSnapshot = { partitions: new Map() };
  watcher = new ClusterWatcher({
    connectString: 'memory',
    cluster: 'blue',
    sessionTimeoutMs: 1000,
    gateUrl: 'http://gate.test:3000',
    logger: pino({ level: 'silent' }),
    watches,
    onSnapshot: (snapshot) => {
      latest = snapshot;
      routing.update(snapshot);
    },
    connect: () => {
      const session = zk.connect();
      sessions.push(session);
      onConnect(session, sessions.length);
      return Promise.resolve(session);
    },
  });
  await watcher.start();
  return { zk, sessions, latest: () => latest, routing };
}

const leaderOfKey = (routing: RoutingState): string | undefined => routing.table().route('k')?.leader?.id;

describe('ClusterWatcher', () => {
  it('loads the ring and every partition before it is ready, and registers the gate', async () => {
    const { zk, latest, routing } = await watched();
    assert.deepEqual(watcher!.readiness(), { ready: true, reason: 'ok' });
    const p0 = latest().partitions.get('p0');
    assert.deepEqual(p0?.members.map((member) => member.id), ['a', 'b']);
    assert.equal(p0?.leader?.id, 'a');
    assert.equal(leaderOfKey(routing), 'a');
    assert.equal(zk.children(paths.gates).length, 1);
  });

  it('is not ready before a further watch (the users) has read once, though the ring is in', async () => {
    let loaded: (() => void) | undefined;
    const users: Watch = { attach: () => new Promise((resolve) => (loaded = resolve)), stop: () => undefined, problems: () => [] };
    const starting = watched(undefined, [users]);
    await until(() => loaded !== undefined && leaderOfKey(routed!) === 'a', 'the ring and partitions to be read, the users not');
    assert.deepEqual(watcher!.readiness(), { ready: false, reason: 'loading the records from ZooKeeper' });
    loaded!();
    await starting;
    assert.deepEqual(watcher!.readiness(), { ready: true, reason: 'ok' });
  });

  for (const [what, path] of [
    ['/ring', paths.ring],
    ['a /state', paths.state('p0')],
    ['a /leader node', paths.leader('p0')],
    ['a member node', `${paths.members('p0')}/m-0000000002`],
  ] as const) {
    it(`keeps routing on the last good records while ${what} is malformed, says why it is not ready, and recovers`, async () => {
      const { zk, latest, routing } = await watched();
      const good = zk.get(path)!.data;
      zk.write(path, '{"garbage":');
      await until(() => watcher!.problems().length === 1, 'the problem to be seen');
      const [problem] = watcher!.problems();
      assert.equal(problem?.path, path);
      assert.match(problem.error, /^malformed \w+ record: not JSON$/);
      assert.deepEqual(watcher!.readiness(), { ready: false, reason: `malformed record at ${path}: ${problem.error}` });
      assert.equal(leaderOfKey(routing), 'a', 'still routed to the leader');
      assert.deepEqual(latest().partitions.get('p0')?.members.map((member) => member.id), ['a', 'b']);

      zk.write(path, good);
      await until(() => watcher!.readiness().ready, 'ready again');
      assert.deepEqual(watcher!.problems(), []);
    });
  }

  it('follows a new leader and a member that leaves', async () => {
    const { zk, latest, routing } = await watched();
    zk.delete(`${paths.members('p0')}/m-0000000001`);
    zk.write(paths.state('p0'), encodeRecord({ epoch: 3, leader: 'b', isr: ['b'] }));
    zk.delete(paths.leader('p0'));
    zk.write(paths.leader('p0'), encodeRecord({ id: 'b', url: urlOf('b'), epoch: 3 }));
    await until(() => leaderOfKey(routing) === 'b', 'b to be routed to');
    assert.deepEqual(latest().partitions.get('p0')?.members.map((member) => member.id), ['b']);
  });

  it('opens another session when its first one expires while loading hangs', async () => {
    const { sessions } = await watched((session, count) => {
      if (count > 1) return;
      session.hang();
      setTimeout(() => session.expire(), 20);
    });
    assert.equal(sessions.length, 2);
    assert.deepEqual(watcher!.readiness(), { ready: true, reason: 'ok' });
  });

  it('reads everything again on a new session after its session expires, and registers the gate again', async () => {
    const { zk, sessions, routing } = await watched();
    sessions[0]!.expire();
    zk.write(paths.leader('p0'), encodeRecord({ id: 'b', url: urlOf('b'), epoch: 3 }));
    zk.write(paths.state('p0'), encodeRecord({ epoch: 3, leader: 'b', isr: ['a', 'b'] }));
    await until(() => sessions.length === 2 && leaderOfKey(routing) === 'b', 'the new session to see b lead');
    assert.equal(zk.children(paths.gates).length, 1);
    assert.ok(watcher!.readiness().ready);
  });

  it('follows the migration and its progress records apart from routing: a malformed one is a problem, but the gate stays ready', async () => {
    const { zk, routing } = await watched();
    const before = watcher!.migrationState();
    assert.deepEqual(before, { progress: new Map() });
    const table = routing.table();
    const migration = { id: 'm-1', kind: 'rebalance', partition: null, state: 'running', startedAt: 1, names: ['p0'], target: new Array(4096).fill(0), original: new Array(4096).fill(0) };
    const progress = { migration: 'm-1', slotsMoved: 1, keysMoved: 2, bytesMoved: 3, pauseMsMax: 4, pauseMsTotal: 4, pauses: 1, updatedAt: 5 };
    zk.write(paths.migration, encodeRecord(migration as MigrationRecord));
    zk.write(paths.progressOf('p0'), encodeRecord(progress));
    await until(() => watcher!.migrationState().progress.size === 1 && watcher!.migrationState().migration !== undefined, 'the migration records');
    assert.deepEqual(watcher!.migrationState(), { migration, progress: new Map([['p0', progress]]) });
    assert.equal(routing.table(), table, 'no new routing table for them');

    zk.write(paths.migration, '{"garbage":');
    await until(() => watcher!.problems().length === 1, 'the problem to be seen');
    assert.equal(watcher!.problems()[0]?.path, paths.migration);
    assert.deepEqual(watcher!.readiness(), { ready: true, reason: 'ok' });
    assert.equal(watcher!.migrationState().migration?.id, 'm-1', 'the last good record');
  });
});
