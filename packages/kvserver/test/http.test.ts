import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CLUSTER_PROOF_HEADER, ClusterAuth } from '@kvstore/cluster';
import { HEADER_PARTITION, HEADER_REPLICA, KvError, clusterPaths } from '@kvstore/protocol';
import request from 'supertest';
import { createApp } from '../src/http/app';
import { ImportReceiver } from '../src/migration/import-receiver';
import { silentLogger } from '../src/replication/types';
import { SimCluster } from './support/sim-cluster';

const auth = new ClusterAuth(Buffer.from('the secret of this test cluster'));

const MAX_VALUE_BYTES = 16;

/** The app of replica `id` in `sim`; keys starting with "foreign-" belong to another partition. */
function appOf(sim: SimCluster, id: string) {
  return createApp({
    replica: sim.replica(id),
    partition: 'p0',
    maxValueBytes: MAX_VALUE_BYTES,
    logger: silentLogger,
    auth,
    routing: {
      ringVersion: 1,
      beforeWrite: () => undefined,
      check: (key: string) => {
        if (key.startsWith('foreign-')) throw new KvError('WRONG_PARTITION', 'not here');
      },
    },
    imports: new ImportReceiver({ partition: 'p0', replica: sim.replica(id), paths: clusterPaths('t'), records: { zk: () => undefined } }),
    notReadyBecause: () => undefined,
  }).http;
}

/** Every refusal is JSON `{"error":{"code","message"}}` with the given status and code. */
function assertError(response: request.Response, status: number, code: string): void {
  assert.equal(response.status, status, `${response.status}: ${response.text}`);
  assert.match(String(response.headers['content-type']), /application\/json/);
  assert.equal(response.body.error.code, code);
  assert.equal(typeof response.body.error.message, 'string');
}

/** A GET whose body is kept as bytes (superagent leaves octet-stream bodies unread otherwise). */
const getBytes = (app: ReturnType<typeof appOf>, path: string) => request(app).get(path).responseType('blob');

const getText = async (app: ReturnType<typeof appOf>, path: string): Promise<string> => String((await getBytes(app, path)).body);

describe('http: a leader’s public API', () => {
  let sim: SimCluster;
  let app: ReturnType<typeof appOf>;
  before(async () => {
    sim = await SimCluster.started(['a']);
    app = appOf(sim, 'a');
  });

  it('round-trips binary values with their ETag, and deletes', async () => {
    const value = Buffer.from([0, 255, 10, 13, 0x80, 1]);
    const put = await request(app).put('/v1/kv/bin%2Fkey').set('content-type', 'application/octet-stream').send(value);
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body, { key: 'bin/key', version: put.body.version });
    assert.equal(put.headers.etag, `"${put.body.version}"`);
    assert.deepEqual([put.headers[HEADER_PARTITION.toLowerCase()], put.headers[HEADER_REPLICA.toLowerCase()]], ['p0', 'a']);

    const got = await getBytes(app, '/v1/kv/bin%2Fkey');
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, value);
    assert.equal(got.headers.etag, `"${put.body.version}"`);
    assert.equal(got.headers['content-type'], 'application/octet-stream');

    const deleted = await request(app).delete('/v1/kv/bin%2Fkey');
    assert.deepEqual(deleted.body, { key: 'bin/key', deleted: true, version: put.body.version + 1 });
    assertError(await request(app).get('/v1/kv/bin%2Fkey'), 404, 'NOT_FOUND');
    const again = await request(app).delete('/v1/kv/bin%2Fkey');
    assert.equal(again.body.deleted, false);
  });

  it('honours If-Match and If-None-Match', async () => {
    const created = await request(app).put('/v1/kv/cas').set('if-none-match', '*').send('one');
    assert.equal(created.status, 200);
    assertError(await request(app).put('/v1/kv/cas').set('if-none-match', '*').send('two'), 412, 'PRECONDITION_FAILED');
    assertError(await request(app).put('/v1/kv/cas').set('if-match', `"${created.body.version + 1}"`).send('two'), 412, 'PRECONDITION_FAILED');
    assertError(await request(app).delete('/v1/kv/cas').set('if-match', '"1"'), 412, 'PRECONDITION_FAILED');
    const updated = await request(app).put('/v1/kv/cas').set('if-match', created.headers.etag).send('two');
    assert.equal(updated.status, 200);
    assert.equal(await getText(app, '/v1/kv/cas'), 'two');
  });

  it('expires a value after its ttl', async () => {
    assert.equal((await request(app).put('/v1/kv/ttl?ttl=2').send('x')).status, 200);
    sim.clock.advance(1999);
    assert.equal((await request(app).get('/v1/kv/ttl')).status, 200);
    sim.clock.advance(1);
    assertError(await request(app).get('/v1/kv/ttl'), 404, 'NOT_FOUND');
  });

  it('accepts a 1024-byte key and a value of exactly --max-value-bytes', async () => {
    const key = 'é'.repeat(512);
    const put = await request(app).put(`/v1/kv/${encodeURIComponent(key)}`).send(Buffer.alloc(MAX_VALUE_BYTES, 7));
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.key, key);
  });

  it('serves the seed API', async () => {
    const put = await request(app).post('/api/cache/put').send({ key: 'seed', value: Buffer.from([1, 2, 3]).toString('base64') });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body, { key: 'seed', version: put.body.version });
    assert.deepEqual((await getBytes(app, '/api/cache/get?key=seed')).body, Buffer.from([1, 2, 3]));
    assertError(await request(app).get('/api/cache/get?key=absent'), 404, 'NOT_FOUND');
  });

  it('decodes the keys . and .. from %2E and %2E%2E', async () => {
    assert.equal((await request(app).put('/v1/kv/%2E').send('dot')).body.key, '.');
    assert.equal((await request(app).put('/v1/kv/%2E%2E').send('dots')).body.key, '..');
    assert.equal(await getText(app, '/v1/kv/%2e'), 'dot');
    assert.equal(await getText(app, '/v1/kv/%2E%2E'), 'dots');
  });

  const badRequests: [name: string, send: () => request.Test, status: number, code: string][] = [
    ['an empty key', () => request(app).put('/v1/kv/').send('x'), 400, 'BAD_REQUEST'],
    ['a 1025-byte key', () => request(app).put(`/v1/kv/${'k'.repeat(1025)}`).send('x'), 400, 'BAD_REQUEST'],
    ['bad percent-encoding', () => request(app).put('/v1/kv/bad%E0%A4%A').send('x'), 400, 'BAD_REQUEST'],
    ['ttl=0', () => request(app).put('/v1/kv/victim?ttl=0').send('x'), 400, 'BAD_REQUEST'],
    ['ttl=1.5', () => request(app).put('/v1/kv/victim?ttl=1.5').send('x'), 400, 'BAD_REQUEST'],
    ['ttl=-1', () => request(app).put('/v1/kv/victim?ttl=-1').send('x'), 400, 'BAD_REQUEST'],
    ['If-None-Match other than *', () => request(app).put('/v1/kv/victim').set('if-none-match', '"1"').send('x'), 400, 'BAD_REQUEST'],
    ['a value one byte over the limit', () => request(app).put('/v1/kv/victim').send(Buffer.alloc(MAX_VALUE_BYTES + 1)), 413, 'PAYLOAD_TOO_LARGE'],
    ['seed: bad JSON', () => request(app).post('/api/cache/put').set('content-type', 'application/json').send('{"key":'), 400, 'BAD_REQUEST'],
    ['seed: bad base64', () => request(app).post('/api/cache/put').send({ key: 'victim', value: 'not base64!' }), 400, 'BAD_REQUEST'],
    [
      'seed: decoded value over the limit',
      () => request(app).post('/api/cache/put').send({ key: 'victim', value: Buffer.alloc(MAX_VALUE_BYTES + 1).toString('base64') }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    ['seed: get without key', () => request(app).get('/api/cache/get'), 400, 'BAD_REQUEST'],
    ['an encoded lone surrogate', () => request(app).put('/v1/kv/a%ED%A0%80').send('x'), 400, 'BAD_REQUEST'],
    [
      'seed: a key with a lone surrogate',
      () => request(app).post('/api/cache/put').set('content-type', 'application/json').send('{"key":"victim\\ud800","value":"eA=="}'),
      400,
      'BAD_REQUEST',
    ],
    ['a key of another partition', () => request(app).put('/v1/kv/foreign-key').send('x'), 421, 'WRONG_PARTITION'],
    ['an unknown route', () => request(app).get('/v2/nothing'), 404, 'NOT_FOUND'],
    ['an unsupported method', () => request(app).post('/v1/kv/victim').send('x'), 404, 'NOT_FOUND'],
  ];
  for (const [name, send, status, code] of badRequests) {
    it(`refuses ${name} with ${status} ${code} and changes nothing`, async () => {
      await request(app).put('/v1/kv/victim').send('original');
      const lastSeq = sim.replica('a').lastSeq;
      assertError(await send(), status, code);
      assert.equal(sim.replica('a').lastSeq, lastSeq, 'nothing reached the log');
      assert.equal(await getText(app, '/v1/kv/victim'), 'original');
    });
  }
});

describe('http: a follower', () => {
  it('answers 421 NOT_LEADER with the leader’s url, but serves eventual reads', async () => {
    const sim = await SimCluster.started(['a', 'b']);
    await sim.replica('a').put('k', Buffer.from('v'), undefined, {});
    await sim.settle();
    const follower = appOf(sim, 'b');
    for (const response of [await request(follower).put('/v1/kv/k').send('x'), await request(follower).get('/v1/kv/k')]) {
      assertError(response, 421, 'NOT_LEADER');
      assert.equal(response.body.error.leader, sim.url('a'));
    }
    assert.equal(await getText(follower, '/v1/kv/k?consistency=eventual'), 'v');
    assertError(await request(follower).get('/v1/kv/k?consistency=sometimes'), 400, 'BAD_REQUEST');
  });
});

describe('http: internal routes', () => {
  it('answer only a request that proves the cluster secret: 401 JSON otherwise, and the connection is closed', async () => {
    const sim = await SimCluster.started(['a']);
    const app = appOf(sim, 'a');
    const stranger = new ClusterAuth(Buffer.from('a secret of some other cluster'));
    for (const path of ['/internal/status', '/internal/snapshot?epoch=1', '/internal/anything']) {
      const missing = await request(app).get(path);
      assertError(missing, 401, 'UNAUTHORIZED');
      assert.equal(missing.headers.connection, 'close');
      assertError(await request(app).get(path).set(stranger.headersFor('GET', path)), 401, 'UNAUTHORIZED');
      assertError(await request(app).get(path).set(CLUSTER_PROOF_HEADER, 'not-a-proof'), 401, 'UNAUTHORIZED');
    }
    const status = await request(app).get('/internal/status').set(auth.headersFor('GET', '/internal/status'));
    assert.equal(status.status, 200);
    assert.equal(status.body.role, 'leader');
  });

  it('refuse a proof made for another path, or one sent twice', async () => {
    const sim = await SimCluster.started(['a']);
    const app = appOf(sim, 'a');
    assertError(await request(app).get('/internal/snapshot?epoch=1').set(auth.headersFor('GET', '/internal/status')), 401, 'UNAUTHORIZED');
    const once = auth.headersFor('GET', '/internal/status');
    assert.equal((await request(app).get('/internal/status').set(once)).status, 200);
    assertError(await request(app).get('/internal/status').set(once), 401, 'UNAUTHORIZED');
  });

  it('relay leader transfers and member removals with clear refusals, changing nothing on bad input', async () => {
    const sim = await SimCluster.started(['a', 'b']);
    const post = (id: string, path: string) => request(appOf(sim, id)).post(path).set(auth.headersFor('POST', path));
    assertError(await post('a', '/internal/leader-transfer?to=b'), 400, 'BAD_REQUEST');
    assertError(await post('a', '/internal/leader-transfer?to=b&timeoutMs=999999'), 400, 'BAD_REQUEST');
    assertError(await post('a', '/internal/leader-transfer?to=%2F&timeoutMs=1000'), 400, 'BAD_REQUEST');
    assertError(await post('a', '/internal/members/a/remove'), 409, 'CONFLICT');
    assertError(await post('b', '/internal/members/b/remove'), 421, 'NOT_LEADER');
    assertError(await post('b', '/internal/leader-transfer?timeoutMs=1000'), 421, 'NOT_LEADER');
    assert.equal(sim.replica('a').role, 'leader');
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b']);
  });
});
