import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvClient } from '@kvstore/kvclient';
import { get, put, request, startCluster, type HttpResult, type TestCluster } from '@kvstore/testkit';

const MAX_VALUE_BYTES = 64 * 1024;

/** The sequence number of every partition's leader, as the gate reports it. */
async function leaderSeqs(cluster: TestCluster): Promise<Record<string, number | null>> {
  const view = await cluster.clusterView();
  return Object.fromEntries(
    view.partitions.map((partition) => [partition.name, partition.members.find((member) => member.role === 'leader')?.lastSeq ?? null]),
  );
}

function assertJsonError(result: HttpResult, status: number, code: string): void {
  assert.equal(result.status, status, `expected ${status}, got ${result.status}: ${result.body}`);
  const error = (result.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  assert.equal(error?.code, code);
  assert.equal(typeof error?.message, 'string');
}

test('bad input gets a clear JSON 4xx, changes nothing, and crashes nothing', async (t) => {
  const cluster = await startCluster({ name: 'bad-input', partitions: 2, replicas: 2, maxValueBytes: MAX_VALUE_BYTES, gateArgs: ['--max-value-bytes', String(MAX_VALUE_BYTES)], persistent: false });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const targets = [gate, ...[...cluster.servers.values()].map((s) => s.url)];
  assert.equal((await put(gate, 'keep', 'original')).status, 200);
  const seqsBefore = await leaderSeqs(cluster);

  for (const base of targets) {
    await t.test(`against ${base === gate ? 'the gate' : base}`, async () => {
      assertJsonError(await request('PUT', `${base}/v1/kv/`, { body: 'x' }), 400, 'BAD_REQUEST');
      assertJsonError(await request('GET', `${base}/v1/kv/%E0%A4%A`), 400, 'BAD_REQUEST');
      // A lone surrogate (U+D800) encoded as UTF-8 is malformed: decodeURIComponent throws, which is a 400.
      assertJsonError(await request('PUT', `${base}/v1/kv/keep%ED%A0%80`, { body: 'x' }), 400, 'BAD_REQUEST');
      assertJsonError(await put(base, 'k'.repeat(1025), 'x'), 400, 'BAD_REQUEST');
      assertJsonError(await put(base, 'keep', 'x', { query: { ttl: '0' } }), 400, 'BAD_REQUEST');
      assertJsonError(await put(base, 'keep', 'x', { query: { ttl: '1.5' } }), 400, 'BAD_REQUEST');
      assertJsonError(await get(base, 'keep', { query: { consistency: 'sometimes' } }), 400, 'BAD_REQUEST');
      assertJsonError(await put(base, 'keep', 'x', { headers: { 'if-match': 'yesterday' } }), 400, 'BAD_REQUEST');
      assertJsonError(await put(base, 'keep', Buffer.alloc(MAX_VALUE_BYTES + 1)), 413, 'PAYLOAD_TOO_LARGE');
      const seed = (body: string): Promise<HttpResult> =>
        request('POST', `${base}/api/cache/put`, { headers: { 'content-type': 'application/json' }, body });
      assertJsonError(await seed('{"key": "keep", "value": '), 400, 'BAD_REQUEST');
      assertJsonError(await seed('{"key": "keep", "value": "not base64!"}'), 400, 'BAD_REQUEST');
      assertJsonError(await seed('{"key": "", "value": "eA=="}'), 400, 'BAD_REQUEST');
      assertJsonError(await seed('[1,2]'), 400, 'BAD_REQUEST');
      // JSON can carry a lone surrogate as an escape; the gate's encodeURIComponent used to throw on it (500).
      assertJsonError(await seed('{"key": "keep\\ud800", "value": "eA=="}'), 400, 'BAD_REQUEST');
      const tooBig = Buffer.alloc(MAX_VALUE_BYTES + 1).toString('base64');
      assertJsonError(await seed(JSON.stringify({ key: 'keep', value: tooBig })), 413, 'PAYLOAD_TOO_LARGE');
      assertJsonError(await request('GET', `${base}/no/such/route`), 404, 'NOT_FOUND');
      assertJsonError(await request('POST', `${base}/v1/kv/keep`, { body: 'x' }), 404, 'NOT_FOUND');
    });
  }

  await t.test('no refused request reached a log', async () => {
    assert.deepEqual(await leaderSeqs(cluster), seqsBefore);
    // A replica's codecs would have written the surrogate as U+FFFD.
    assert.equal((await get(gate, 'keep\ufffd')).status, 404);
  });

  await t.test('the keys . and .. are written and read back through kvclient', async (sub) => {
    const client = new KvClient({ hosts: gate });
    sub.after(() => client.close());
    await client.put('.', 'one dot');
    await client.put('..', 'two dots');
    assert.equal((await client.get('.')).value.toString(), 'one dot');
    assert.equal((await client.get('..')).value.toString(), 'two dots');
    // The seed API names the key in the query, where no dot-segment is resolved: the stored keys are exactly these.
    assert.equal((await request('GET', `${gate}/api/cache/get?key=..`)).body.toString(), 'two dots');
    assert.equal((await request('GET', `${gate}/api/cache/get?key=.`)).body.toString(), 'one dot');
  });

  await t.test('limits are inclusive: a 1024-byte key and a value of exactly the limit are accepted', async () => {
    const key = 'k'.repeat(1024);
    assert.equal((await put(gate, key, Buffer.alloc(MAX_VALUE_BYTES, 7))).status, 200);
    assert.equal((await get(gate, key)).body.length, MAX_VALUE_BYTES);
  });

  await t.test('a wrong If-Match is refused with 412 and changes nothing', async () => {
    assertJsonError(await put(gate, 'keep', 'changed', { headers: { 'if-match': '"999999"' } }), 412, 'PRECONDITION_FAILED');
  });

  await t.test('nothing changed, and every process is still up', async () => {
    const read = await get(gate, 'keep');
    assert.equal(read.body.toString(), 'original');
    assert.equal((await get(gate, 'k'.repeat(1025))).status, 400);
    for (const server of cluster.servers.values()) assert.equal(server.process.exitStatus, undefined, `${server.id} exited`);
    for (const gateProcess of cluster.gates) assert.equal(gateProcess.exitStatus, undefined, 'the gate exited');
    for (const base of targets) assert.equal((await request('GET', `${base}/healthz`)).status, 200);
  });
});
