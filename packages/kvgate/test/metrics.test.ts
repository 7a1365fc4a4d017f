import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { Forwarder, type RetryReason } from '../src/proxy/forwarder';
import { MemoryTransport } from '../src/proxy/memory-transport';
import type { Answer } from '@kvstore/cluster';
import { RoutingState } from '../src/routing/routing-state';
import { createApp } from '../src/http/app';
import { GateMetrics, REQUEST_DURATION, routeOf, type GateRoute } from '../src/metrics/gate-metrics';
import { snapshotOf, urlOf } from './fixtures';

const READ = { method: 'GET', key: 'k', ttl: undefined, consistency: 'strong', ifMatch: undefined, ifNoneMatch: false, requestId: 'r-1', body: Buffer.alloc(0) } as const;

function metricsOf(routing?: RoutingState): GateMetrics {
  return new GateMetrics({ routingVersion: () => routing?.table().ringVersion, connections: () => new Map([[urlOf('a'), 1]]) });
}

async function values(metrics: GateMetrics, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  assert.ok(metric, `${name} is registered`);
  return metric.values as Array<{ labels: Record<string, string | number>; value: number }>;
}

/** One request through the metrics, as the gate counts it: arrived, then answered 2 ms later. */
function answer(metrics: GateMetrics, route: GateRoute, method: string, code: number, partition?: string): void {
  metrics.arrived();
  metrics.answered(2, route, method, code, partition);
}

describe('GateMetrics', () => {
  it('counts and times answers by route, method, code and partition, reusing label children', async () => {
    const metrics = metricsOf();
    for (let i = 0; i < 3; i++) answer(metrics, 'kv', 'PUT', 200, 'p0');
    answer(metrics, 'kv', 'GET', 404, 'p1');
    // An unknown method is one label value, not one per spelling a client sends.
    answer(metrics, 'other', 'BREW', 404);
    answer(metrics, 'other', 'PROPFIND', 404);
    const counts = (await values(metrics, 'kvstore_gate_requests_total')).map(({ labels, value }) => `${labels.route} ${labels.method} ${labels.code} ${labels.partition}=${value}`);
    assert.deepEqual(counts.sort(), ['kv GET 404 p1=1', 'kv PUT 200 p0=3', 'other OTHER 404 =2']);
    const histogram = (await values(metrics, REQUEST_DURATION)).filter(({ labels }) => labels.partition === 'p0' && labels.le === '+Inf');
    assert.equal(histogram[0]?.value, 3);
    assert.deepEqual(await values(metrics, 'kvstore_gate_requests_in_flight'), [{ labels: {}, value: 0 }]);
  });

  it('reads the routing version and the connections when scraped', async () => {
    const routing = new RoutingState();
    const metrics = metricsOf(routing);
    assert.equal((await values(metrics, 'kvstore_gate_routing_version'))[0]?.value, -1);
    routing.update(snapshotOf({ p0: { members: ['a'], leader: 'a' } }));
    assert.equal((await values(metrics, 'kvstore_gate_routing_version'))[0]?.value, routing.table().ringVersion);
    assert.deepEqual(await values(metrics, 'kvstore_gate_upstream_connections'), [{ labels: { upstream: urlOf('a') }, value: 1 }]);
  });

  it('names the routes by kind', () => {
    assert.equal(routeOf('/v1/admin/partitions/p0/snapshot'), 'admin');
    assert.equal(routeOf('/v1/cluster'), 'cluster');
    assert.equal(routeOf('/api/cache/get'), 'seed');
    assert.equal(routeOf('/readyz'), 'probe');
    assert.equal(routeOf('/metrics'), 'metrics');
    assert.equal(routeOf('/ui/app.js'), 'ui');
    assert.equal(routeOf('/v1/ui/view'), 'ui', 'the page polls its view once a second');
    assert.equal(routeOf('/v1/ui/session'), 'ui');
    assert.equal(routeOf('/v1/routing'), 'cluster');
    assert.equal(routeOf('/nonsense'), 'other');
  });
});

describe('GET /metrics on the gate app', () => {
  it('serves the registry and counts every other route once answered', async () => {
    const metrics = metricsOf();
    const app = createApp({
      forwarder: { forward: () => Promise.reject(new Error('no data path here')) },
      maxValueBytes: 1024,
      clusterView: () => Promise.reject(new Error('no view')),
      readiness: () => ({ ready: true, reason: 'ok' }),
      metrics,
    });
    await supertest(app).get('/healthz').expect(200);
    await supertest(app).get('/nowhere').expect(404);
    const scraped = await supertest(app).get('/metrics').expect(200).expect('content-type', /^text\/plain/);
    assert.match(scraped.text, /^kvstore_gate_requests_total\{route="probe",method="GET",code="200",partition=""\} 1$/m);
    assert.match(scraped.text, /^kvstore_gate_requests_total\{route="other",method="GET",code="404",partition=""\} 1$/m);
  });

  it('is absent without metrics', async () => {
    const app = createApp({ forwarder: { forward: () => Promise.reject(new Error('unused')) }, maxValueBytes: 1024, clusterView: () => Promise.reject(new Error('unused')), readiness: () => ({ ready: true, reason: 'ok' }) });
    await supertest(app).get('/metrics').expect(404);
  });
});

describe('Forwarder retries, by reason', () => {
  it('reports a NOT_LEADER, a partition without a leader and an unreachable replica', async () => {
    const routing = new RoutingState();
    routing.update(snapshotOf({ p0: { members: ['a', 'b'], leader: 'a' } }));
    const transport = new MemoryTransport();
    const reasons: RetryReason[] = [];
    const forwarder = new Forwarder({ source: routing, transport, writeTimeoutMs: 300, onRetry: (reason) => reasons.push(reason) });
    const notLeader = { status: 421, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ error: { code: 'NOT_LEADER', message: 'no', leader: urlOf('b') } })) };
    let calls = 0;
    transport.serve(urlOf('a'), () => notLeader).serve(urlOf('b'), (): Answer => {
      calls++;
      if (calls === 1) return { status: 503, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'busy' } })) };
      return { status: 200, headers: {}, body: Buffer.from('{}') };
    });
    const result = await forwarder.forward(READ);
    assert.equal(result.ok, true);
    assert.deepEqual(reasons, ['not_leader', 'unavailable', 'not_leader']);

    reasons.length = 0;
    routing.update(snapshotOf({ p0: { members: ['a', 'b'] } }));
    const leaderless = await forwarder.forward(READ);
    assert.equal(leaderless.ok, false);
    assert.ok(reasons.length > 0 && reasons.every((reason) => reason === 'no_leader'), reasons.join());
  });
});
