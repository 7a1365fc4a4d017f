import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ClusterAuth, decodeKvAnswer, encodeKvRequest } from '@kvstore/cluster';
import { KvError, clusterPaths } from '@kvstore/protocol';
import request from 'supertest';
import { FrameKind, decodeKvFrameAnswer, encodeKvFrameRequest, type KvFrameAnswer } from '@kvstore/wire';
import { createApp } from '../src/http/app';
import { ImportReceiver } from '../src/migration/import-receiver';
import type { Logger } from '../src/replication/types';
import { SimCluster } from './support/sim-cluster';

interface Line {
  level: keyof Logger;
  object: Record<string, unknown>;
  message: string | undefined;
}

/** A logger that keeps its lines. */
function keptLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: keyof Logger) =>
    (object: object, message?: string): void => {
      lines.push({ level, object: object as Record<string, unknown>, message });
    };
  return { logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') }, lines };
}

/** Replica `a` of a one-replica partition p0, logging into `lines`; keys starting with "foreign-" belong elsewhere. */
function replicaApp(sim: SimCluster, slowRequestMs?: number) {
  const { logger, lines } = keptLogger();
  const app = createApp({
    replica: sim.replica('a'),
    partition: 'p0',
    maxValueBytes: 16,
    logger,
    slowRequestMs,
    auth: new ClusterAuth(Buffer.from('the secret of this test cluster')),
    routing: {
      ringVersion: 1,
      beforeWrite: () => undefined,
      check: (key: string) => {
        if (key.startsWith('foreign-')) throw new KvError('WRONG_PARTITION', 'not here');
      },
    },
    imports: new ImportReceiver({ partition: 'p0', replica: sim.replica('a'), paths: clusterPaths('t'), records: { zk: () => undefined } }),
    notReadyBecause: () => undefined,
  });
  return { app, lines };
}

/** What the replica answers a gate's typed kv frame. */
async function viaTypedFrame(app: ReturnType<typeof replicaApp>['app'], method: 'GET' | 'PUT', key: string, requestId: string): Promise<KvFrameAnswer> {
  const handler = app.mux[FrameKind.typedKv];
  assert.ok(handler);
  const body = Buffer.from(method === 'PUT' ? 'v' : '');
  const request = { method, key, ttl: undefined, consistency: 'strong', ifMatch: undefined, ifNoneMatch: false, requestId, routingVersion: undefined, body } as const;
  const answer = await handler(Buffer.concat(encodeKvFrameRequest(request)));
  return decodeKvFrameAnswer(Buffer.concat(Array.isArray(answer) ? answer : [answer as Buffer]));
}

/** What the replica answers the url-and-headers kv frame of a gate that predates the typed one. */
async function viaMux(app: ReturnType<typeof replicaApp>['app'], method: 'GET' | 'PUT', path: string, headers: Record<string, string>) {
  const handler = app.mux[FrameKind.kv];
  assert.ok(handler);
  const answer = await handler(Buffer.concat(encodeKvRequest({ method, path, headers, body: Buffer.from('v') })));
  return decodeKvAnswer(Buffer.concat(Array.isArray(answer) ? answer : [answer as Buffer]));
}

describe('replica: request ids', () => {
  let sim: SimCluster;
  before(async () => {
    sim = await SimCluster.started(['a']);
  });

  it('echoes a well-formed id on its public API and makes one for a request without', async () => {
    const { app } = replicaApp(sim);
    const named = await request(app.http).put('/v1/kv/k').set('X-Request-Id', 'client-1').send('v');
    assert.equal(named.status, 200);
    assert.equal(named.headers['x-request-id'], 'client-1');
    const unnamed = await request(app.http).get('/v1/kv/k');
    assert.match(String(unnamed.headers['x-request-id']), /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
    assert.match(String((await request(app.http).get('/healthz').set('X-Request-Id', 'a b')).headers['x-request-id']), /^[A-Za-z0-9_-]{8}-/);
  });

  it('names the request in every error body: the data path, a body too large, the seed API, an unknown route', async () => {
    const { app } = replicaApp(sim);
    const cases = [
      request(app.http).get('/v1/kv/absent').set('X-Request-Id', 'e-1'),
      request(app.http).get('/v1/kv/foreign-k').set('X-Request-Id', 'e-2'),
      request(app.http).put('/v1/kv/k').set('X-Request-Id', 'e-3').send('x'.repeat(17)),
      request(app.http).get('/api/cache/get?key=absent').set('X-Request-Id', 'e-4'),
      request(app.http).get('/no/such/route').set('X-Request-Id', 'e-5'),
    ];
    const answers = await Promise.all(cases);
    assert.deepEqual(
      answers.map((answer) => [answer.status, answer.headers['x-request-id'], answer.body.error.requestId]),
      [
        [404, 'e-1', 'e-1'],
        [421, 'e-2', 'e-2'],
        [413, 'e-3', 'e-3'],
        [404, 'e-4', 'e-4'],
        [404, 'e-5', 'e-5'],
      ],
    );
  });

  it("takes a gate's id from the kv frame into its slow-request lines, and from an older gate's frame into its error answers", async () => {
    const { app, lines } = replicaApp(sim, 0);
    const absent = await viaTypedFrame(app, 'GET', 'absent', 'gate-1');
    assert.equal(!absent.ok && absent.error.code, 'NOT_FOUND');
    assert.equal((await viaTypedFrame(app, 'PUT', 'k', 'gate-2')).ok, true);
    const foreign = await viaTypedFrame(app, 'GET', 'foreign-k', 'gate-4');
    assert.deepEqual(!foreign.ok && [foreign.error.code, foreign.routingVersion, foreign.replica], ['WRONG_PARTITION', 1, 'a']);
    const older = await viaMux(app, 'GET', '/v1/kv/absent', { 'x-request-id': 'gate-3' });
    assert.equal(older.status, 404);
    assert.equal(JSON.parse(older.body.toString()).error.requestId, 'gate-3');
    const slow = lines.filter((line) => line.message === 'slow request');
    assert.deepEqual(
      slow.map((line) => [line.level, line.object.requestId, line.object.method, line.object.url, line.object.status, line.object.partition]),
      [
        ['info', 'gate-1', 'GET', '/v1/kv/absent', 404, 'p0'],
        ['info', 'gate-2', 'PUT', '/v1/kv/k', 200, 'p0'],
        ['info', 'gate-4', 'GET', '/v1/kv/foreign-k', 421, 'p0'],
        ['info', 'gate-3', 'GET', '/v1/kv/absent', 404, 'p0'],
      ],
    );
  });

  it('logs no request line under the threshold, or without one', async () => {
    for (const slowRequestMs of [60_000, undefined]) {
      const { app, lines } = replicaApp(sim, slowRequestMs);
      await request(app.http).get('/v1/kv/k');
      await viaMux(app, 'GET', '/v1/kv/k', {});
      await viaTypedFrame(app, 'GET', 'k', 'gate-1');
      assert.deepEqual(lines, []);
    }
  });
});
