import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { del, get, put, request, startCluster, waitFor } from '@kvstore/testkit';

test('the public API through the gate, on two partitions of three replicas', async (t) => {
  const cluster = await startCluster({ partitions: 2, replicas: 3, gates: 2, name: 'crud' });
  t.after(() => cluster.stop());
  const [gate, secondGate] = cluster.gateUrls as [string, string];

  await t.test('put, get and delete a binary value under a key that needs encoding', async () => {
    const key = 'dir/ключ ?&%';
    const value = randomBytes(4096);
    const written = await put(gate, key, value);
    assert.equal(written.status, 200);
    const { version } = written.json as { key: string; version: number };
    assert.deepEqual(written.json, { key, version });
    assert.equal(written.headers.get('etag'), `"${version}"`);
    const read = await get(gate, key);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, value);
    assert.equal(read.headers.get('etag'), `"${version}"`);
    assert.match(read.headers.get('x-kv-partition') ?? '', /^p[01]$/);
    assert.match(read.headers.get('x-kv-replica') ?? '', /^p[01]-r[123]$/);
    const removed = await del(gate, key);
    assert.equal(removed.status, 200);
    assert.equal((removed.json as { deleted: boolean }).deleted, true);
    assert.equal((await get(gate, key)).status, 404);
    assert.equal(((await del(gate, key)).json as { deleted: boolean }).deleted, false);
  });

  await t.test('compare-and-set with If-Match and create-only with If-None-Match', async () => {
    const key = 'cas-key';
    assert.equal((await put(gate, key, 'a', { headers: { 'if-match': '"1"' } })).status, 412, 'If-Match on an absent key');
    const created = await put(gate, key, 'a', { headers: { 'if-none-match': '*' } });
    assert.equal(created.status, 200);
    assert.equal((await put(gate, key, 'b', { headers: { 'if-none-match': '*' } })).status, 412);
    const version = (created.json as { version: number }).version;
    const stale = await put(gate, key, 'c', { headers: { 'if-match': `"${version + 1000}"` } });
    assert.equal(stale.status, 412);
    assert.equal((stale.json as { error: { code: string } }).error.code, 'PRECONDITION_FAILED');
    assert.equal((await put(gate, key, 'd', { headers: { 'if-match': `"${version}"` } })).status, 200);
    assert.equal((await get(gate, key)).body.toString(), 'd');
    assert.equal((await del(gate, key, { headers: { 'if-match': `"${version}"` } })).status, 412, 'delete with an old version');
  });

  await t.test('a value with a ttl disappears after it', async () => {
    assert.equal((await put(gate, 'short-lived', 'x', { query: { ttl: 1 } })).status, 200);
    assert.equal((await get(gate, 'short-lived')).status, 200);
    await waitFor(async () => (await get(gate, 'short-lived')).status === 404, { timeoutMs: 5000, what: 'the ttl to expire' });
  });

  await t.test("the seed's /api/cache API still works", async () => {
    const value = Buffer.from([0, 1, 2, 250, 251]);
    const written = await request('POST', `${gate}/api/cache/put`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'seed', value: value.toString('base64') }),
    });
    assert.equal(written.status, 200);
    const read = await request('GET', `${gate}/api/cache/get?key=seed`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, value);
    assert.deepEqual((await get(gate, 'seed')).body, value);
    assert.equal((await request('GET', `${gate}/api/cache/get?key=never-written`)).status, 404);
  });

  await t.test('2000 keys spread over both partitions, read back through either gate, identically routed', async () => {
    const keys = Array.from({ length: 2000 }, (_, index) => `spread-${index}`);
    const partitionOf = new Map<string, string>();
    for (let start = 0; start < keys.length; start += 50) {
      await Promise.all(
        keys.slice(start, start + 50).map(async (key) => {
          const written = await put(gate, key, `value of ${key}`);
          assert.equal(written.status, 200, `put ${key}: ${written.body}`);
          partitionOf.set(key, written.headers.get('x-kv-partition')!);
        }),
      );
    }
    const counts = [...partitionOf.values()].reduce((acc, p) => acc.set(p, (acc.get(p) ?? 0) + 1), new Map<string, number>());
    assert.equal(counts.size, 2, 'both partitions own keys');
    for (const count of counts.values()) assert.ok(count > 600, `an uneven split: ${[...counts]}`);
    for (let start = 0; start < keys.length; start += 50) {
      await Promise.all(
        keys.slice(start, start + 50).map(async (key) => {
          const read = await get(secondGate, key);
          assert.equal(read.status, 200);
          assert.equal(read.body.toString(), `value of ${key}`);
          assert.equal(read.headers.get('x-kv-partition'), partitionOf.get(key), `the second gate routes ${key} alike`);
        }),
      );
    }
  });

  await t.test('eventual reads are served by followers too, and strong reads by the leader', async () => {
    await put(gate, 'spread-read', 'v');
    const leader = (await get(gate, 'spread-read')).headers.get('x-kv-replica');
    const view = await cluster.clusterView();
    const partition = view.partitions.find((p) => p.leader === leader)!;
    assert.ok(partition, 'strong reads come from a leader');
    const servedBy = new Set<string>();
    await waitFor(
      async () => {
        const read = await get(gate, 'spread-read', { consistency: 'eventual' });
        if (read.status === 200) servedBy.add(read.headers.get('x-kv-replica')!);
        return servedBy.size > 1;
      },
      { timeoutMs: 5000, what: 'eventual reads from more than one replica' },
    );
  });

  await t.test('the cluster view shows every partition with its leader, in-sync set and members', async () => {
    const view = await cluster.clusterView();
    assert.equal(view.cluster, cluster.name);
    assert.deepEqual(view.ring.partitions, ['p0', 'p1']);
    for (const partition of view.partitions) {
      assert.ok(partition.leader);
      assert.equal(partition.isr.length, 3);
      assert.equal(partition.members.length, 3);
      assert.equal(partition.members.filter((m) => m.role === 'leader').length, 1);
      for (const member of partition.members) assert.equal(typeof member.lastSeq, 'number');
    }
  });
});
