import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError, MAX_REQUEST_ID_LENGTH, type ClusterView } from '@kvstore/protocol';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../src/http/app';
import type { ForwardRequest, ForwardResult } from '../src/proxy/forwarder';
import { until } from './fixtures';

const view: ClusterView = { cluster: 'default', ring: { version: 1, partitions: ['p0'] }, partitions: [] };

/** A gate app whose log lines are kept as parsed objects, and whose forwarder records what reaches it. */
function gateWithLog(options: { slowRequestMs?: number; ready?: boolean; answer?: (forwarded: ForwardRequest) => ForwardResult } = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const seen: ForwardRequest[] = [];
  const ok = (): ForwardResult => ({ ok: true, partition: 'p0', replica: 'a', response: { ok: true, replica: 'a', version: 1, contentType: 'application/octet-stream', body: Buffer.from('v') } });
  const app = createApp({
    forwarder: {
      forward: async (forwarded) => {
        seen.push(forwarded);
        return (options.answer ?? ok)(forwarded);
      },
    },
    maxValueBytes: 16,
    slowRequestMs: options.slowRequestMs,
    clusterView: async () => view,
    readiness: () => (options.ready === false ? { ready: false, reason: 'not connected to ZooKeeper' } : { ready: true, reason: 'ok' }),
    logger,
  });
  return { app, lines, seen, withMessage: (message: string) => lines.filter((line) => line.msg === message) };
}

const MADE_ID = /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/;

describe('gate: request ids', () => {
  it('makes an id when the request has none, answers with it and forwards it to the replica', async () => {
    const { app, seen } = gateWithLog();
    const first = await request(app).get('/v1/kv/k');
    const second = await request(app).put('/v1/kv/k').send('v');
    const ids = [first.headers['x-request-id'], second.headers['x-request-id']];
    for (const id of ids) assert.match(String(id), MADE_ID);
    assert.notEqual(ids[0], ids[1]);
    assert.deepEqual(seen.map((forwarded) => forwarded.requestId), ids);
  });

  it("keeps a client's well-formed id, and replaces one that is too long, has a space or a control character", async () => {
    const { app, seen } = gateWithLog();
    const good = 'trace-0af7651916cd43dd8448eb211c80319c';
    assert.equal((await request(app).get('/v1/kv/k').set('X-Request-Id', good)).headers['x-request-id'], good);
    assert.equal(seen[0]?.requestId, good);
    const longest = 'x'.repeat(MAX_REQUEST_ID_LENGTH);
    assert.equal((await request(app).delete('/v1/kv/k').set('X-Request-Id', longest)).headers['x-request-id'], longest);
    for (const bad of ['x'.repeat(MAX_REQUEST_ID_LENGTH + 1), 'two words', 'tab\there', 'caf\u00e9']) {
      const answered = (await request(app).get('/v1/kv/k').set('X-Request-Id', bad)).headers['x-request-id'];
      assert.match(String(answered), MADE_ID, `${JSON.stringify(bad)} is replaced`);
    }
  });

  it('names the request in the body of every error answer, refused by the gate or by a replica', async () => {
    const { app } = gateWithLog({ answer: () => ({ ok: false, partition: 'p0', replica: 'a', error: new KvError('NOT_FOUND', 'key not found') }) });
    const badKey = await request(app).get('/v1/kv/%E0%A4%A').set('X-Request-Id', 'bad-key-1');
    assert.equal(badKey.status, 400);
    assert.equal(badKey.body.error.requestId, 'bad-key-1');
    const absent = await request(app).get('/v1/kv/absent');
    assert.equal(absent.status, 404);
    assert.equal(absent.body.error.requestId, absent.headers['x-request-id']);
    const unknownRoute = await request(app).get('/no/such/route').set('X-Request-Id', 'route-1');
    assert.deepEqual([unknownRoute.status, unknownRoute.headers['x-request-id'], unknownRoute.body.error.requestId], [404, 'route-1', 'route-1']);
    const seed = await request(app).post('/api/cache/put').set('content-type', 'application/json').send('{"key":');
    assert.equal(seed.status, 400);
    assert.equal(seed.body.error.requestId, seed.headers['x-request-id']);
  });

  it('forwards the id of a seed API request', async () => {
    const { app, seen } = gateWithLog();
    const response = await request(app).get('/api/cache/get?key=k').set('X-Request-Id', 'seed-1');
    assert.equal(response.headers['x-request-id'], 'seed-1');
    assert.equal(seen[0]?.requestId, 'seed-1');
  });
});

describe('gate: access and slow-request logs', () => {
  it('logs one access line per express request, probes at debug, and none for /v1/kv', async () => {
    const { app, lines, withMessage } = gateWithLog();
    await request(app).get('/v1/cluster').set('X-Request-Id', 'view-1');
    await request(app).get('/healthz').set('X-Request-Id', 'probe-1');
    await request(app).get('/v1/kv/k').set('X-Request-Id', 'kv-1');
    await until(() => withMessage('request').length === 2, 'two access lines');
    const [viewLine, probeLine] = withMessage('request');
    assert.deepEqual(
      { ...viewLine, durationMs: typeof viewLine?.durationMs },
      { ...viewLine, requestId: 'view-1', method: 'GET', url: '/v1/cluster', status: 200, level: 30, durationMs: 'number' },
    );
    assert.deepEqual([probeLine?.requestId, probeLine?.level], ['probe-1', 20]);
    const notReady = gateWithLog({ ready: false });
    await request(notReady.app).get('/readyz').set('X-Request-Id', 'probe-2');
    await until(() => notReady.withMessage('request').length === 1, 'the probe line');
    assert.deepEqual(notReady.withMessage('request').map((line) => [line.requestId, line.status, line.level]), [['probe-2', 503, 20]]);
    assert.equal(lines.filter((line) => line.requestId === 'kv-1').length, 0, 'a fast data request is not logged');
  });

  it('logs a slow data request with its id, partition and replica; with 0, every one', async () => {
    const { app, withMessage } = gateWithLog({ slowRequestMs: 0 });
    await request(app).put('/v1/kv/some%20key?ttl=5').set('X-Request-Id', 'slow-1').send('v');
    const [line] = withMessage('slow request');
    assert.deepEqual(
      { ...line, durationMs: typeof line?.durationMs },
      { ...line, requestId: 'slow-1', method: 'PUT', url: '/v1/kv/some%20key?ttl=5', status: 200, partition: 'p0', replica: 'a', durationMs: 'number' },
    );
    const quiet = gateWithLog({ slowRequestMs: 60_000 });
    await request(quiet.app).get('/v1/kv/k');
    assert.equal(quiet.withMessage('slow request').length, 0);
  });

  it('logs a 5xx of the data path with the request id', async () => {
    const { app, withMessage } = gateWithLog({ answer: () => ({ ok: false, partition: 'p0', error: new KvError('UNAVAILABLE', 'partition p0 has no leader') }) });
    await request(app).get('/v1/kv/k').set('X-Request-Id', 'down-1');
    assert.deepEqual(withMessage('request failed').map((line) => [line.requestId, line.status]), [['down-1', 503]]);
  });
});
