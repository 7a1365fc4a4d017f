import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ZkSession, ensureClusterSecretFile } from '@kvstore/cluster';
import { clusterPaths, encodeRecord, parseMigration, placeSlots, ringRecord, type ClusterView, type MigrationView } from '@kvstore/protocol';
import { freePort, request, startKvGate, tempDir, uniqueClusterName, waitFor, zookeeperForTests, type ManagedProcess } from '@kvstore/testkit';

/** A real kvgate on a real ZooKeeper whose ring is the placement of p0 and p1 (no replica needed: the admin routes write ZooKeeper). */
describe('a real gate starts, shows and aborts migrations', () => {
  const cluster = uniqueClusterName('reshard-admin');
  const paths = clusterPaths(cluster);
  let zk: ZkSession;
  let gate: ManagedProcess;
  let url: string;

  before(async () => {
    const zookeeper = await zookeeperForTests();
    zk = await ZkSession.connect(zookeeper.connectString, { sessionTimeoutMs: 5000 });
    await zk.mkdirp(paths.root);
    await zk.create(paths.ring, encodeRecord(ringRecord(2, placeSlots(['p0', 'p1']), { sealed: true })), 'persistent');
    const dir = tempDir(cluster);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    gate = await startKvGate({
      zk: zookeeper.connectString,
      port,
      cluster,
      clusterSecretFile: ensureClusterSecretFile(path.join(dir, 'cluster.secret')),
      logFile: path.join(dir, 'gate.log'),
    });
    await waitFor(async () => (await request('GET', `${url}/readyz`)).status === 200, { timeoutMs: 10_000, what: 'the gate to be ready' });
  });
  after(async () => {
    await gate.stop();
    zk.close();
  });

  const clusterView = async (): Promise<ClusterView> => (await request('GET', `${url}/v1/cluster`)).json as ClusterView;

  it('adds a partition (202), shows it in /v1/cluster, refuses another with 409, and aborts it', async () => {
    const started = await request('POST', `${url}/v1/admin/partitions/p2`);
    assert.equal(started.status, 202, started.body.toString());
    const view = started.json as MigrationView;
    assert.deepEqual([view.kind, view.partition, view.state], ['add', 'p2', 'running']);
    assert.equal(parseMigration((await zk.getData(paths.migration))!.data).id, view.id);

    const shown = await waitFor(async () => {
      const current = await clusterView();
      return current.migration?.id === view.id ? current : undefined;
    }, { timeoutMs: 5000, what: 'the gate to show the migration' });
    assert.deepEqual(shown.ring.partitions, ['p0', 'p1', 'p2']);
    assert.equal(shown.ring.slots?.p2, 0);
    assert.equal(shown.ring.sealed, true);

    const refused = await request('POST', `${url}/v1/admin/rebalance`);
    assert.equal(refused.status, 409);
    assert.equal((refused.json as { error: { code: string } }).error.code, 'CONFLICT');

    const aborted = await request('POST', `${url}/v1/admin/migration/abort`);
    assert.equal(aborted.status, 202);
    assert.equal((aborted.json as MigrationView).state, 'aborting');
    await waitFor(async () => ((await request('GET', `${url}/v1/admin/migration`)).json as MigrationView | null)?.state === 'aborting', {
      timeoutMs: 5000,
      what: 'the gate to show the abort',
    });
  });
});
