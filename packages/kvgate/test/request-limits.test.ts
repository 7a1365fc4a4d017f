import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterView } from '@kvstore/protocol';
import request from 'supertest';
import { createApp } from '../src/http/app';
import { ClientLimiter, type ClientLimits, type LimitReason } from '../src/limits/client-limiter';
import { RequestLimits } from '../src/limits/request-limits';
import { GateMetrics } from '../src/metrics/gate-metrics';
import type { ForwardRequest, ForwardResult } from '../src/proxy/forwarder';

const view: ClusterView = { cluster: 'default', ring: { version: 1, partitions: ['p0'] }, partitions: [] };
const ANSWER: ForwardResult = { ok: true, partition: 'p0', replica: 'a', response: { ok: true, replica: 'a', version: undefined, contentType: 'application/json; charset=utf-8', body: Buffer.from('{}') } };

/** An app with `limits` on a clock that stands still; the forwarder holds each request until `release` when `hold` is set. */
function limitedApp(limits: ClientLimits, hold = false) {
  const forwarded: ForwardRequest[] = [];
  const waiting: (() => void)[] = [];
  const refusals: LimitReason[] = [];
  const app = createApp({
    forwarder: {
      forward: async (forward) => {
        forwarded.push(forward);
        if (hold) await new Promise<void>((resolve) => waiting.push(resolve));
        return ANSWER;
      },
    },
    maxValueBytes: 16,
    clusterView: async () => view,
    readiness: () => ({ ready: true, reason: 'ok' }),
    metrics: new GateMetrics({ routingVersion: () => 1, connections: () => new Map() }),
    limits: new RequestLimits(new ClientLimiter(limits, () => 0), (reason) => refusals.push(reason)),
  });
  return { app, forwarded, refusals, releaseAll: () => waiting.splice(0).forEach((resolve) => resolve()) };
}

function assertTooMany(response: request.Response, retryAfter: string): void {
  assert.equal(response.status, 429, response.text);
  assert.equal(response.body.error.code, 'TOO_MANY_REQUESTS');
  assert.equal(response.headers['retry-after'], retryAfter);
  assert.equal(typeof response.body.error.requestId, 'string');
}

describe('app: per-client limits', () => {
  it('refuses a put over the rate with 429 and Retry-After before forwarding it', async () => {
    const { app, forwarded, refusals } = limitedApp({ ratePerS: 0.5, burst: 2, maxInFlight: 0 });
    assert.equal((await request(app).put('/v1/kv/a').send('1')).status, 200);
    assert.equal((await request(app).put('/v1/kv/b').send('2')).status, 200);
    assertTooMany(await request(app).put('/v1/kv/c').send('3'), '2');
    assert.deepEqual(forwarded.map((forward) => forward.key), ['a', 'b']);
    assert.deepEqual(refusals, ['rate']);
  });

  it('limits the express routes the same way, but never the probes or /metrics', async () => {
    const { app } = limitedApp({ ratePerS: 1, burst: 1, maxInFlight: 0 });
    assert.equal((await request(app).get('/v1/cluster')).status, 200);
    assertTooMany(await request(app).get('/v1/cluster'), '1');
    assertTooMany(await request(app).get('/api/cache/get?key=k'), '1');
    for (const path of ['/healthz', '/readyz', '/metrics']) assert.equal((await request(app).get(path)).status, 200, path);
  });

  it('refuses past the in-flight limit, and admits again once a request is answered', async () => {
    const { app, forwarded, refusals, releaseAll } = limitedApp({ ratePerS: 0, burst: 1, maxInFlight: 1 }, true);
    const agent = request(app);
    const first = agent.get('/v1/kv/held').then((response) => response);
    await waitUntil(() => forwarded.length === 1);
    assertTooMany(await agent.get('/v1/kv/other'), '1');
    releaseAll();
    assert.equal((await first).status, 200);
    const again = agent.get('/v1/kv/again').then((response) => response);
    await waitUntil(() => forwarded.length === 2);
    releaseAll();
    assert.equal((await again).status, 200);
    assert.deepEqual(refusals, ['in_flight']);
  });
});

/** Resolves once `condition` holds, checking on each turn of the event loop. */
async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
