import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry, register as globalRegistry } from 'prom-client';
import { FastCounter, FastHistogram, ZkSessionMetrics, createMetricsRegistry, metricNames, serveMetrics } from '../src/metrics';
import { MemoryZooKeeper } from '../src/testing';

async function sessionStates(registry: Registry): Promise<Record<string, number>> {
  const [gauge] = (await registry.getMetricsAsJSON()).filter((metric) => metric.name === 'kvstore_zookeeper_session_state');
  return Object.fromEntries(gauge!.values.map((value) => [String(value.labels.state), value.value]));
}

describe('createMetricsRegistry', () => {
  it('makes a registry of its own, with the process metrics, apart from the global one', () => {
    const first = createMetricsRegistry();
    const second = createMetricsRegistry();
    const names = metricNames(first);
    assert.ok(names.includes('process_cpu_user_seconds_total'));
    assert.ok(names.includes('nodejs_eventloop_lag_seconds'));
    // Two in one process (a test, say) do not collide, and nothing lands in prom-client's global registry.
    new Counter({ name: 'kvstore_test_total', help: 'test', registers: [first] });
    assert.ok(!metricNames(second).includes('kvstore_test_total'));
    assert.equal(globalRegistry.getSingleMetric('kvstore_test_total'), undefined);
  });
});

describe('serveMetrics', () => {
  it('answers the registry in Prometheus text format', async () => {
    const registry = createMetricsRegistry();
    new Counter({ name: 'kvstore_served_total', help: 'served', registers: [registry] }).inc(3);
    const server = createServer((_request, response) => serveMetrics(registry, response)).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.match(await response.text(), /^kvstore_served_total 3$/m);
    } finally {
      server.close();
    }
  });
});

describe('ZkSessionMetrics', () => {
  it('follows the newest session through connected, disconnected and expired, and counts the events', async () => {
    const registry = createMetricsRegistry();
    const metrics = new ZkSessionMetrics(registry);
    assert.equal((await sessionStates(registry)).connecting, 1);
    const zookeeper = new MemoryZooKeeper();
    const connect = metrics.wrap(() => Promise.resolve(zookeeper.connect()));
    const first = (await connect('zk', { sessionTimeoutMs: 1000 })) as ReturnType<MemoryZooKeeper['connect']>;
    assert.deepEqual(await sessionStates(registry), { connecting: 0, connected: 1, disconnected: 0, expired: 0, closed: 0 });
    first.disconnect();
    assert.equal((await sessionStates(registry)).disconnected, 1);
    first.expire();
    assert.equal((await sessionStates(registry)).expired, 1);
    const second = (await connect('zk', { sessionTimeoutMs: 1000 })) as ReturnType<MemoryZooKeeper['connect']>;
    // The old session's late events no longer count.
    first.emit('disconnected');
    assert.equal((await sessionStates(registry)).connected, 1);
    second.close();
    assert.equal((await sessionStates(registry)).closed, 1);
    const [events] = (await registry.getMetricsAsJSON()).filter((metric) => metric.name === 'kvstore_zookeeper_session_events_total');
    const counts = Object.fromEntries(events!.values.map((value) => [String(value.labels.event), value.value]));
    assert.deepEqual(counts, { connected: 2, disconnected: 1, expired: 1 });
  });
});

describe('FastCounter and FastHistogram', () => {
  it('expose exactly what prom-client\'s own would for the same events', async () => {
    const fast = new Registry();
    const plain = new Registry();
    const buckets = [0.001, 0.01, 0.1, 1];
    const fastHistogram = new FastHistogram({ name: 'kvstore_t_seconds', help: 'h', labelNames: ['partition', 'code'], buckets, registers: [fast] });
    const plainHistogram = new Histogram({ name: 'kvstore_t_seconds', help: 'h', labelNames: ['partition', 'code'], buckets, registers: [plain] });
    const fastCounter = new FastCounter({ name: 'kvstore_t_total', help: 'c', labelNames: ['reason'], registers: [fast] });
    const plainCounter = new Counter({ name: 'kvstore_t_total', help: 'c', labelNames: ['reason'], registers: [plain] });
    const observations: Array<[string, string, number]> = [['p0', '200', 0.0005], ['p0', '200', 0.001], ['p1', '503', 0.5], ['p0', '200', 3], ['p1', '503', 0.01]];
    for (const [partition, code, seconds] of observations) {
      fastHistogram.cell(partition, code).observe(seconds);
      plainHistogram.observe({ partition, code }, seconds);
      fastCounter.cell(code === '200' ? 'ok' : 'retry').inc();
      plainCounter.inc({ reason: code === '200' ? 'ok' : 'retry' });
    }
    assert.equal(await fast.metrics(), await plain.metrics());
    // What a web view reads through get(): the same series, labels and values (prom-client adds an empty exemplar).
    const series = async (histogram: Histogram) => (await histogram.get()).values.map(({ metricName, labels, value }) => ({ metricName, labels, value }));
    assert.deepEqual(await series(fastHistogram), await series(plainHistogram));
    fast.resetMetrics();
    plain.resetMetrics();
    assert.match(await fast.metrics(), /^kvstore_t_seconds_count\{partition="p0",code="200"\} 0$/m);
  });
});
