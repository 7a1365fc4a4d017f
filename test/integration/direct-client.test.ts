import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvClient, KvError, type RoutingView } from '@kvstore/kvclient';
import { Ring } from '@kvstore/protocol';
import { get, put, rawMuxUpgrade, request, startCluster, waitFor } from '@kvstore/testkit';
import { CLIENT_MUX_PATH } from '@kvstore/wire';

/** A key that `partition` owns on the ring of `view`. */
function keyOwnedBy(view: RoutingView, partition: string): string {
  const ring = new Ring(view.ring);
  for (let index = 0; ; index++) if (ring.ownerOf(`k-${index}`) === partition) return `k-${index}`;
}

/** Whether `work` succeeded. */
const succeeds = (work: Promise<unknown>): Promise<boolean> => work.then(() => true, () => false);

test('a self-routing client: straight to the replicas, following a killed leader and a new partition, with --auth on', async (t) => {
  const cluster = await startCluster({ name: 'direct', partitions: 1, replicas: 3, gates: 1, persistent: false, auth: true });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const gateProcess = cluster.gates[0]!;
  const admin = await waitFor(() => cluster.adminToken(), { what: 'the admin token' });
  const client = new KvClient({ hosts: gate, routing: 'direct', token: admin, routingRefreshMs: 200, retries: 4, timeoutMs: 2000 });
  t.after(() => client.close());
  /** Runs `work` while the gate is stopped (SIGSTOP): only a request that never touches the gate can succeed. */
  const withoutGate = async <T>(work: () => Promise<T>): Promise<T> => {
    gateProcess.pause();
    try {
      return await work();
    } finally {
      gateProcess.resume();
    }
  };

  await t.test('reads and writes reach the replicas without the gate', async () => {
    await client.put('warm', 'up');
    const leader = await cluster.waitForLeader('p0');
    await withoutGate(async () => {
      const { version } = await client.put('k', 'one');
      const read = await client.get('k');
      assert.deepEqual([read.value.toString(), read.version, read.replica], ['one', version, leader.id]);
      const replicas = new Set<string | null>();
      for (let round = 0; round < 6; round++) replicas.add((await client.get('k', { consistency: 'eventual' })).replica);
      assert.equal(replicas.size, 3, 'eventual reads spread over the in-sync replicas');
      assert.equal((await client.delete('k')).deleted, true);
    });
  });

  await t.test('a leader killed (SIGKILL): the client follows the new leader', async () => {
    const old = await cluster.waitForLeader('p0');
    await old.process.kill();
    // Through the gate (which waits for the election) while the table names the dead leader; a read first, which may always be repeated.
    assert.equal((await client.getOrNull('warm'))?.value.toString(), 'up');
    await client.put('after-kill', 'v');
    const next = await cluster.waitForLeader('p0', { not: old.id });
    await waitFor(async () => (await client.routing()).partitions.p0?.leader?.id === next.id, { what: 'the gate to publish the new leader' });
    await waitFor(() => withoutGate(() => succeeds(client.put('after-kill', 'w'))), { what: 'a direct write to the new leader', timeoutMs: 30_000 });
    const read = await withoutGate(() => client.get('after-kill'));
    assert.deepEqual([read.value.toString(), read.replica], ['w', next.id]);
  });

  await t.test('a partition added: the client follows the new ring', async () => {
    await cluster.startPartition('p1', 1);
    await cluster.waitForMigration((view) => view.state === 'done', { what: 'p1 to join' });
    const view = await waitFor(async () => {
      const routing = await client.routing();
      return routing.partitions.p1?.leader && routing;
    }, { what: 'the routing table to show p1 with a leader' });
    const key = keyOwnedBy(view, 'p1');
    // First with the gate up: a replica's WRONG_PARTITION makes the client read the table again (an attempt
    // with the gate stopped can spend its whole retry budget on the stopped gate).
    await client.put(key, 'first');
    await waitFor(() => withoutGate(() => succeeds(client.put(key, 'moved'))), { what: 'a direct write to p1', timeoutMs: 30_000 });
    const read = await withoutGate(() => client.get(key));
    assert.deepEqual([read.value.toString(), read.partition], ['moved', 'p1']);
  });

  await t.test('--auth on at the replicas: a token the gate refuses, the replica refuses too', async () => {
    const issued = await client.addUser('reader', [{ role: 'read' }]);
    const reader = new KvClient({ hosts: gate, routing: 'direct', token: issued.token, retries: 0 });
    t.after(() => reader.close());
    const view = await client.routing();
    const replica = view.partitions[new Ring(view.ring).ownerOf('warm')!]!.leader!.url;
    await waitFor(async () => (await get(replica, 'warm', { headers: { authorization: `Bearer ${issued.token}` } })).status === 200, { what: 'the replica to know the reader' });
    // A user without admin reads the routing table, replica urls included (docs/security.md), and so reads straight from the replicas.
    assert.ok(Object.values((await reader.routing()).partitions).every((route) => route.members.every((member) => member.url.startsWith('http://'))));
    assert.equal((await reader.get('warm')).value.toString(), 'up');
    assert.equal((await withoutGate(() => reader.get('warm'))).value.toString(), 'up');
    await assert.rejects(
      withoutGate(() => reader.put('warm', 'by reader')),
      (error: unknown) => error instanceof KvError && error.code === 'FORBIDDEN',
    );
    assert.equal((await put(replica, 'warm', 'nobody')).status, 401);
    assert.equal((await put(replica, 'warm', 'forger', { headers: { authorization: `Bearer ${issued.token.split('.')[0]}.${'x'.repeat(43)}` } })).status, 401);
    assert.equal((await put(gate, 'warm', 'forger', { headers: { authorization: `Bearer ${issued.token.split('.')[0]}.${'x'.repeat(43)}` } })).status, 401);
    assert.equal((await request('GET', `${replica}/metrics`, { headers: { authorization: `Bearer ${issued.token}` } })).status, 403);
    assert.equal((await client.get('warm')).value.toString(), 'up');

    // The clients' binary door wants a valid token on the upgrade...
    const port = Number(new URL(replica).port);
    const forged = `${issued.token.split('.')[0]}.${'x'.repeat(43)}`;
    for (const headerLines of ['', `Authorization: Bearer ${forged}\r\n`]) {
      assert.equal(await rawMuxUpgrade({ port, path: CLIENT_MUX_PATH, headerLines }), 'HTTP/1.1 401 Unauthorized');
    }
    assert.equal(await rawMuxUpgrade({ port, path: CLIENT_MUX_PATH, headerLines: `Authorization: Bearer ${issued.token}\r\n` }), 'HTTP/1.1 101 Switching Protocols');
    // ...and checks each request against the token's grants as they are now: a grant taken away stops the next read on an open connection.
    await client.revoke('reader', 'read');
    await waitFor(
      () => withoutGate(() => reader.get('warm').then(() => false, (error: unknown) => error instanceof KvError && error.code === 'FORBIDDEN')),
      { what: 'the replica to refuse the reader once its grant is gone' },
    );
  });
});
