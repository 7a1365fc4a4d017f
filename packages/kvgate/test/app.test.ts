import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError, unavailable, type ClusterView } from '@kvstore/protocol';
import request from 'supertest';
import { createApp } from '../src/http/app';
import type { ForwardRequest, ForwardResult } from '../src/proxy/forwarder';

const MAX_VALUE_BYTES = 16;

/** A forwarder that records what reaches it and answers as told. */
function fakeForwarder(answer: (request: ForwardRequest) => ForwardResult | Promise<ForwardResult> = defaultAnswer) {
  const seen: ForwardRequest[] = [];
  return {
    seen,
    forward: async (forwarded: ForwardRequest) => {
      seen.push(forwarded);
      return answer(forwarded);
    },
  };
}

function defaultAnswer(forwarded: ForwardRequest): ForwardResult {
  const body = forwarded.method === 'GET' ? Buffer.from('value') : Buffer.from(JSON.stringify({ key: forwarded.key, version: 7 }));
  const contentType = forwarded.method === 'GET' ? 'application/octet-stream' : 'application/json; charset=utf-8';
  return { ok: true, partition: 'p0', replica: 'a', response: { ok: true, replica: 'a', version: 7, contentType, body } };
}

const view: ClusterView = { cluster: 'default', ring: { version: 1, partitions: ['p0'] }, partitions: [] };

function appWith(forwarder = fakeForwarder(), ready = true) {
  return createApp({
    forwarder,
    maxValueBytes: MAX_VALUE_BYTES,
    clusterView: async () => view,
    readiness: () => (ready ? { ready: true, reason: 'ok' } : { ready: false, reason: 'not connected to ZooKeeper' }),
  });
}

/** Every refusal is a JSON error with the given status and code. */
function assertError(response: request.Response, status: number, code: string): void {
  assert.equal(response.status, status, `${response.status}: ${response.text}`);
  assert.match(String(response.headers['content-type']), /application\/json/);
  assert.equal(response.body.error.code, code);
  assert.equal(typeof response.body.error.message, 'string');
}

describe('app: /v1/kv', () => {
  it('forwards a put with its raw body, ttl and conditions, and passes the answer back', async () => {
    const forwarder = fakeForwarder();
    const response = await request(appWith(forwarder))
      .put('/v1/kv/a%2Fb%20c?ttl=5')
      .set('If-Match', '"3"')
      .set('Content-Type', 'text/plain')
      .send('hello');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { key: 'a/b c', version: 7 });
    assert.equal(response.headers.etag, '"7"');
    assert.equal(response.headers['x-kv-partition'], 'p0');
    assert.equal(response.headers['x-kv-replica'], 'a');
    const seen = forwarder.seen[0];
    assert.equal(seen?.key, 'a/b c');
    assert.equal(seen?.ttl, 5);
    assert.equal(seen?.ifMatch, 3);
    assert.equal(seen?.body?.toString(), 'hello');
  });

  it('returns raw value bytes on get, with the consistency asked for', async () => {
    const forwarder = fakeForwarder();
    const response = await request(appWith(forwarder)).get('/v1/kv/k?consistency=eventual').buffer(true);
    assert.equal(response.status, 200);
    assert.equal(Buffer.from(response.body).toString(), 'value');
    assert.equal(forwarder.seen[0]?.consistency, 'eventual');
    await request(appWith(forwarder)).get('/v1/kv/k?consistency=strong');
    await request(appWith(forwarder)).get('/v1/kv/k');
    assert.deepEqual(
      forwarder.seen.slice(1).map((seen) => seen.consistency),
      ['strong', 'strong'],
    );
  });

  it('refuses an empty key', async () => {
    assertError(await request(appWith()).put('/v1/kv/').send('x'), 400, 'BAD_REQUEST');
    assertError(await request(appWith()).get('/v1/kv'), 400, 'BAD_REQUEST');
  });

  it('accepts a 1024-byte key and refuses a 1025-byte one', async () => {
    const forwarder = fakeForwarder();
    const app = appWith(forwarder);
    const accepted = encodeURIComponent('é'.repeat(512));
    assert.equal((await request(app).get(`/v1/kv/${accepted}`)).status, 200);
    assert.equal(forwarder.seen[0]?.key, 'é'.repeat(512));
    assertError(await request(app).get(`/v1/kv/${accepted}a`), 400, 'BAD_REQUEST');
    assertError(await request(app).put(`/v1/kv/${'k'.repeat(1025)}`).send('x'), 400, 'BAD_REQUEST');
    assert.equal(forwarder.seen.length, 1);
  });

  it('refuses bad percent-encoding', async () => {
    for (const path of ['/v1/kv/%E0%A4%A', '/v1/kv/%FF', '/v1/kv/a%zz']) {
      assertError(await request(appWith()).get(path), 400, 'BAD_REQUEST');
    }
  });

  it('refuses a key with a lone surrogate with 400 on every way in, forwarding nothing', async () => {
    const forwarder = fakeForwarder();
    const app = appWith(forwarder);
    for (const path of ['/v1/kv/%ED%A0%80', '/v1/kv/a%ED%B0%80']) assertError(await request(app).put(path).send('x'), 400, 'BAD_REQUEST');
    const seed = await request(app).post('/api/cache/put').set('Content-Type', 'application/json').send('{"key":"a\\ud800","value":"eA=="}');
    assertError(seed, 400, 'BAD_REQUEST');
    assert.match(seed.body.error.message, /lone surrogate/);
    assert.equal(forwarder.seen.length, 0);
  });

  it('decodes the keys . and .. from %2E and %2E%2E', async () => {
    const forwarder = fakeForwarder();
    const app = appWith(forwarder);
    for (const path of ['/v1/kv/%2E', '/v1/kv/%2e%2E', '/v1/kv/...']) assert.equal((await request(app).get(path)).status, 200);
    assert.deepEqual(forwarder.seen.map((seen) => seen.key), ['.', '..', '...']);
  });

  it('refuses bad ttl and consistency values', async () => {
    for (const query of ['ttl=0', 'ttl=-1', 'ttl=1.5', 'ttl=abc', 'ttl=', 'ttl=1&ttl=2', 'ttl=99999999999']) {
      assertError(await request(appWith()).put(`/v1/kv/k?${query}`).send('x'), 400, 'BAD_REQUEST');
    }
    for (const query of ['consistency=bogus', 'consistency=', 'consistency=strong&consistency=eventual']) {
      assertError(await request(appWith()).get(`/v1/kv/k?${query}`), 400, 'BAD_REQUEST');
    }
  });

  it('accepts a value of exactly the limit and refuses one byte more with 413', async () => {
    const forwarder = fakeForwarder();
    const app = appWith(forwarder);
    assert.equal((await request(app).put('/v1/kv/k').send(Buffer.alloc(MAX_VALUE_BYTES, 1))).status, 200);
    assertError(await request(app).put('/v1/kv/k').send(Buffer.alloc(MAX_VALUE_BYTES + 1, 1)), 413, 'PAYLOAD_TOO_LARGE');
    assert.equal(forwarder.seen.length, 1);
  });

  it('answers an unsupported method with JSON', async () => {
    assertError(await request(appWith()).post('/v1/kv/k').send('x'), 404, 'NOT_FOUND');
  });

  it('maps a forwarding failure to JSON with the partition involved', async () => {
    const forwarder = fakeForwarder(() => ({ ok: false, partition: 'p1', error: unavailable('partition p1 has no leader') }));
    const response = await request(appWith(forwarder)).put('/v1/kv/k').send('x');
    assertError(response, 503, 'UNAVAILABLE');
    assert.equal(response.body.error.message, 'partition p1 has no leader');
    assert.equal(response.headers['x-kv-partition'], 'p1');
  });

  it('answers 500 JSON, and keeps serving, when something unexpected throws', async () => {
    const app = appWith(fakeForwarder(() => Promise.reject(new Error('boom'))));
    assertError(await request(app).get('/v1/kv/k'), 500, 'INTERNAL');
    assert.equal((await request(app).get('/healthz')).status, 200);
  });
});

describe('app: seed API', () => {
  it('puts a base64 value like PUT', async () => {
    const forwarder = fakeForwarder();
    const response = await request(appWith(forwarder)).post('/api/cache/put').send({ key: 'k', value: Buffer.from('ab').toString('base64') });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { key: 'k', version: 7 });
    assert.equal(forwarder.seen[0]?.method, 'PUT');
    assert.equal(forwarder.seen[0]?.body?.toString(), 'ab');
  });

  it('refuses malformed JSON and bodies of the wrong shape', async () => {
    const post = () => request(appWith()).post('/api/cache/put').set('Content-Type', 'application/json');
    assertError(await post().send('{"key": "k", '), 400, 'BAD_REQUEST');
    assertError(await post().send('"just a string"'), 400, 'BAD_REQUEST');
    assertError(await post().send('[1]'), 400, 'BAD_REQUEST');
    assertError(await post().send({ key: 5, value: '' }), 400, 'BAD_REQUEST');
    assertError(await post().send({ key: '', value: '' }), 400, 'BAD_REQUEST');
  });

  it('refuses base64 that is not canonical', async () => {
    for (const value of ['YWI', 'Y W I =', '-_-_', 'YWI=\n', '!!!!', 5]) {
      assertError(await request(appWith()).post('/api/cache/put').send({ key: 'k', value }), 400, 'BAD_REQUEST');
    }
  });

  it('applies the value limit to the decoded value', async () => {
    const app = appWith();
    const atLimit = Buffer.alloc(MAX_VALUE_BYTES, 7).toString('base64');
    assert.equal((await request(app).post('/api/cache/put').send({ key: 'k', value: atLimit })).status, 200);
    const over = Buffer.alloc(MAX_VALUE_BYTES + 1, 7).toString('base64');
    assertError(await request(app).post('/api/cache/put').send({ key: 'k', value: over }), 413, 'PAYLOAD_TOO_LARGE');
    const huge = Buffer.alloc(MAX_VALUE_BYTES * 100, 7).toString('base64');
    assertError(await request(app).post('/api/cache/put').send({ key: 'k', value: huge }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('gets raw bytes, 404 JSON when absent, 400 without a key', async () => {
    const missing = fakeForwarder(() => ({ ok: false, partition: 'p0', replica: 'a', error: new KvError('NOT_FOUND', 'key not found') }));
    assert.equal((await request(appWith()).get('/api/cache/get?key=k')).status, 200);
    assertError(await request(appWith(missing)).get('/api/cache/get?key=k'), 404, 'NOT_FOUND');
    assertError(await request(appWith()).get('/api/cache/get'), 400, 'BAD_REQUEST');
  });
});

describe('app: cluster and health', () => {
  it('answers healthz, readyz and the cluster view', async () => {
    assert.deepEqual((await request(appWith()).get('/healthz')).body, { ok: true });
    assert.equal((await request(appWith()).get('/readyz')).status, 200);
    assertError(await request(appWith(fakeForwarder(), false)).get('/readyz'), 503, 'UNAVAILABLE');
    assert.deepEqual((await request(appWith()).get('/v1/cluster')).body, view);
  });

  it('answers an unknown route with 404 JSON', async () => {
    assertError(await request(appWith()).get('/nope'), 404, 'NOT_FOUND');
    assertError(await request(appWith()).delete('/healthz'), 404, 'NOT_FOUND');
  });

  it('forwards no internal route: 404 JSON, even for the mux upgrade', async () => {
    const forwarder = fakeForwarder();
    assertError(await request(appWith(forwarder)).get('/internal/status'), 404, 'NOT_FOUND');
    assertError(await request(appWith(forwarder)).get('/internal/snapshot?epoch=1'), 404, 'NOT_FOUND');
    const upgrade = await request(appWith(forwarder)).get('/internal/mux').set('Connection', 'Upgrade').set('Upgrade', 'kvstore-mux/1');
    assertError(upgrade, 404, 'NOT_FOUND');
    assert.equal(forwarder.seen.length, 0);
  });
});
