import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Counter, register as globalRegistry, type Registry } from 'prom-client';
import { ZkSessionMetrics, createMetricsRegistry, metricNames, serveMetrics } from '../src/metrics';
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
