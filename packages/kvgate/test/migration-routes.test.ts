import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { MemoryZooKeeper } from '@kvstore/cluster/testing';
import { Ring, clusterPaths, encodeRecord, parseMigration, parseRing, placeSlots, ringRecord, type MigrationView } from '@kvstore/protocol';
import request from 'supertest';
import { buildClusterView, type StatusFetcher } from '../src/cluster/cluster-view';
import { migrationAdmin } from '../src/cluster/migration-admin';
import { RingSummaries } from '../src/cluster/ring-summary';
import { createApp } from '../src/http/app';
import { ClusterWatcher } from '../src/zk/cluster-watcher';
import { memoryWatcher, until, urlOf } from './fixtures';

const CLUSTER = 'blue';
const paths = clusterPaths(CLUSTER);
let watcher: ClusterWatcher | undefined;

afterEach(() => watcher?.stop());

/**
 * A gate's admin surface wired as gate.ts wires it, on an in-memory
 * ZooKeeper whose ring is the placement of p0 and p1; p1's one replica `x`
 * says it holds 1234 keys.
 */
async function gate(options: { start?: boolean } = {}) {
  const zk = new MemoryZooKeeper();
  zk.write(paths.ring, encodeRecord(ringRecord(4, placeSlots(['p0', 'p1']), { sealed: true })));
  zk.write(`${paths.members('p1')}/m-0000000001`, encodeRecord({ id: 'x', url: urlOf('x') }));
  const { watcher: current, routing } = memoryWatcher(zk, CLUSTER);
  watcher = current;
  if (options.start !== false) await current.start();
  const fetchStatus: StatusFetcher = async (url) => (url === urlOf('x') ? { lastSeq: 9, keys: 1234 } : undefined);
  const summaries = new RingSummaries();
  const summary = () => summaries.summary(routing.snapshot().ring, current.migrationState());
  const app = createApp({
    forwarder: { forward: () => Promise.reject(new Error('no kv requests here')) },
    maxValueBytes: 16,
    clusterView: () => buildClusterView(CLUSTER, routing.snapshot(), fetchStatus, current.problems(), summary()),
    readiness: () => current.readiness(),
    migrations: migrationAdmin({
      cluster: CLUSTER,
      zookeeper: () => current.zookeeper(),
      snapshot: () => routing.snapshot(),
      migrationRecords: () => current.migrationState(),
      summary,
      fetchStatus,
    }),
  });
  /** Waits for the watcher to have read the migration with this id in this state. */
  const seen = (id: string, state: MigrationView['state']): Promise<void> =>
    until(() => {
      const { migration } = current.migrationState();
      return migration?.id === id && migration.state === state;
    }, `migration ${id} ${state}`);
  return { zk, app, seen };
}

function assertError(response: request.Response, status: number, code: string, message: RegExp): void {
  assert.equal(response.status, status, `${response.status}: ${response.text}`);
  assert.equal(response.body.error.code, code);
  assert.match(response.body.error.message, message);
}

/** What a source's driver writes when the migration ends. */
function finish(zk: MemoryZooKeeper, state: 'done' | 'aborted'): void {
  zk.write(paths.migration, encodeRecord({ ...parseMigration(zk.get(paths.migration)!.data), state, finishedAt: Date.now() }));
}

describe('migration admin routes', () => {
  it('adds a partition: 202 with the migration as it starts, then /v1/admin/migration and /v1/cluster show it, progress included', async () => {
    const { zk, app } = await gate();
    assert.equal((await request(app).get('/v1/admin/migration').expect(200)).body, null);

    const started = await request(app).post('/v1/admin/partitions/p2').expect(202);
    const view = started.body as MigrationView;
    assert.deepEqual([view.kind, view.partition, view.state, view.slotsMoved, view.keysMoved], ['add', 'p2', 'running', 0, 0]);
    assert.ok(view.slotsTotal > 1000 && view.slotsTotal < 2000, `${view.slotsTotal} slots`);
    assert.equal(parseMigration(zk.get(paths.migration)!.data).id, view.id);
    assert.deepEqual(parseRing(zk.get(paths.ring)!.data).partitions, ['p0', 'p1', 'p2']);

    zk.write(paths.progressOf('p0'), encodeRecord({ migration: view.id, slotsMoved: 0, keysMoved: 40, bytesMoved: 400, pauseMsMax: 12, pauseMsTotal: 12, pauses: 1, updatedAt: Date.now(), blocked: 'p2 has no leader' }));
    await until(() => watcher!.migrationState().progress.has('p0'), 'the progress record');
    const shown = (await request(app).get('/v1/admin/migration').expect(200)).body as MigrationView;
    assert.equal(shown.id, view.id);
    assert.deepEqual([shown.keysMoved, shown.pauseMsMax, shown.blocked], [40, 12, [{ partition: 'p0', reason: 'p2 has no leader' }]]);

    const cluster = (await request(app).get('/v1/cluster').expect(200)).body;
    const counts = new Ring(parseRing(zk.get(paths.ring)!.data)).slotCounts();
    assert.deepEqual(cluster.ring, { version: 5, partitions: ['p0', 'p1', 'p2'], slots: Object.fromEntries(counts), sealed: true });
    assert.equal(cluster.migration.id, view.id);
  });

  it('refuses a second migration with 409 while one runs; abort is 202 (again: the same), then 409 once it is over', async () => {
    const { zk, app, seen } = await gate();
    const { body: view } = await request(app).post('/v1/admin/partitions/p2').expect(202);
    assertError(await request(app).post('/v1/admin/rebalance'), 409, 'CONFLICT', new RegExp(`migration ${view.id} \\(add p2\\) is running`));
    assertError(await request(app).delete('/v1/admin/partitions/p0?force=true'), 409, 'CONFLICT', /abort it and let the abort finish/);

    const aborting = (await request(app).post('/v1/admin/migration/abort').expect(202)).body as MigrationView;
    assert.deepEqual([aborting.id, aborting.state], [view.id, 'aborting']);
    assert.equal((await request(app).post('/v1/admin/migration/abort').expect(202)).body.state, 'aborting');
    await seen(view.id, 'aborting');
    finish(zk, 'aborted');
    await seen(view.id, 'aborted');
    assertError(await request(app).post('/v1/admin/migration/abort'), 409, 'CONFLICT', /is aborted: there is nothing to abort/);

    // p2 is listed, owning nothing, after the abort: it can be added again, and p1 removed after that.
    const again = (await request(app).post('/v1/admin/partitions/p2').expect(202)).body as MigrationView;
    finish(zk, 'done');
    await seen(again.id, 'done');
    const removal = (await request(app).delete('/v1/admin/partitions/p1').expect(202)).body as MigrationView;
    assert.deepEqual([removal.kind, removal.partition, removal.state], ['remove', 'p1', 'running']);
  });

  it('removes a dead partition by force: 200 with the slots it gave up and the keys a replica of it still reports, or null', async () => {
    const { zk, app } = await gate();
    const owned = new Ring(parseRing(zk.get(paths.ring)!.data)).slotCounts().get('p1');
    const { body } = await request(app).delete('/v1/admin/partitions/p1?force=true').expect(200);
    assert.deepEqual(body, { partition: 'p1', ringVersion: 5, slotsGivenUp: owned, keysGivenUp: 1234 });
    assert.deepEqual(parseRing(zk.get(paths.ring)!.data).partitions, ['p0']);

    zk.write(paths.ring, encodeRecord(ringRecord(6, placeSlots(['p0', 'p3']), { sealed: true })));
    const { body: unknown } = await request(app).delete('/v1/admin/partitions/p3?force=true').expect(200);
    assert.equal(unknown.keysGivenUp, null, 'no replica of p3 answered');
  });

  it('answers bad input with a clear 400 and changes nothing', async () => {
    const { zk, app } = await gate();
    const ring = zk.get(paths.ring);
    assertError(await request(app).post('/v1/admin/partitions/bad%20name'), 400, 'BAD_REQUEST', /invalid partition name "bad name"/);
    assertError(await request(app).post('/v1/admin/partitions/p1'), 400, 'BAD_REQUEST', /p1 is already on the ring: it owns \d+ slots/);
    assertError(await request(app).delete('/v1/admin/partitions/p7'), 400, 'BAD_REQUEST', /p7 is not on the ring/);
    assertError(await request(app).delete('/v1/admin/partitions/p1?force=maybe'), 400, 'BAD_REQUEST', /force must be true or false/);
    assertError(await request(app).delete('/v1/admin/partitions/p1?force=true&force=true'), 400, 'BAD_REQUEST', /force must be true or false/);
    assertError(await request(app).post('/v1/admin/rebalance'), 400, 'BAD_REQUEST', /nothing to move/);
    assertError(await request(app).post('/v1/admin/migration/abort'), 409, 'CONFLICT', /no migration has run in cluster blue/);
    assert.deepEqual(zk.get(paths.ring), ring);
    assert.equal(zk.get(paths.migration), undefined);
  });

  it('answers 503 while the gate has no ZooKeeper session', async () => {
    const { app } = await gate({ start: false });
    assertError(await request(app).post('/v1/admin/partitions/p2'), 503, 'UNAVAILABLE', /not connected to ZooKeeper/);
  });
});
