import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { GateMetrics } from '../src/metrics/gate-metrics';
import { TrafficSampler, readBuckets, trafficBetween, type HistogramReading } from '../src/ui/traffic-sampler';

/** The gate's metrics, and a way to record a /v1/kv request of `seconds` in its duration histogram. */
function gateHistogram() {
  const metrics = new GateMetrics({ routingVersion: () => undefined, connections: () => new Map() });
  const histogram = {
    observe(labels: { method: string; code: string; partition: string }, seconds: number): void {
      metrics.arrived();
      metrics.answered(seconds * 1000, 'kv', labels.method, Number(labels.code), labels.partition);
    },
  };
  return { registry: metrics.registry, histogram };
}

/** A reading from cumulative counts per bound (seconds; the last is +Inf). */
function reading(partitions: Record<string, [number, number][]>): HistogramReading {
  return new Map(Object.entries(partitions).map(([name, buckets]) => [name, new Map(buckets)]));
}

describe('trafficBetween', () => {
  it('gives the rate and an interpolated p99 from the bucket deltas', () => {
    const before = reading({ p0: [[0.001, 100], [0.01, 150], [0.1, 150], [Infinity, 150]] });
    // 1000 more requests in 2 s: 900 under 1 ms, 95 under 10 ms, 5 under 100 ms.
    const after = reading({ p0: [[0.001, 1000], [0.01, 1145], [0.1, 1150], [Infinity, 1150]] });
    const p0 = trafficBetween(before, after, 2).get('p0')!;
    assert.equal(p0.opsPerSecond, 500);
    // Rank 990 falls in (1 ms, 10 ms], at 90 of its 95: 1 + 9 * 90 / 95 ms.
    assert.ok(Math.abs(p0.p99Ms! - (1 + (9 * 90) / 95)) < 1e-9, String(p0.p99Ms));
  });

  it('interpolates from zero in the first bucket', () => {
    const after = reading({ p0: [[0.004, 100], [Infinity, 100]] });
    const p0 = trafficBetween(new Map(), after, 1).get('p0')!;
    assert.equal(p0.opsPerSecond, 100);
    assert.ok(Math.abs(p0.p99Ms! - 3.96) < 1e-9);
  });

  it('says the highest finite bound when the p99 is beyond it', () => {
    const after = reading({ p0: [[0.01, 90], [0.5, 95], [Infinity, 100]] });
    assert.equal(trafficBetween(new Map(), after, 1).get('p0')!.p99Ms, 500);
  });

  it('keeps partitions apart, and gives no p99 for a partition without requests in the interval', () => {
    const before = reading({ p0: [[0.01, 10], [Infinity, 10]], p1: [[0.01, 5], [Infinity, 5]] });
    const after = reading({ p0: [[0.01, 10], [Infinity, 10]], p1: [[0.01, 25], [Infinity, 25]] });
    const traffic = trafficBetween(before, after, 1);
    assert.deepEqual(traffic.get('p0'), { opsPerSecond: 0, p99Ms: null });
    assert.equal(traffic.get('p1')!.opsPerSecond, 20);
  });

  it('counts a count that went down (a reset) as no requests, never as negative', () => {
    const before = reading({ p0: [[0.01, 50], [Infinity, 50]] });
    const after = reading({ p0: [[0.01, 3], [Infinity, 3]] });
    assert.deepEqual(trafficBetween(before, after, 1).get('p0'), { opsPerSecond: 0, p99Ms: null });
  });
});

describe('readBuckets', () => {
  it('sums the buckets of every route, method and code by partition, and leaves out unrouted requests', async () => {
    const { registry, histogram } = gateHistogram();
    histogram.observe({ method: 'GET', code: '200', partition: 'p0' }, 0.0002);
    histogram.observe({ method: 'PUT', code: '200', partition: 'p0' }, 0.02);
    histogram.observe({ method: 'GET', code: '404', partition: 'p1' }, 0.0002);
    histogram.observe({ method: 'GET', code: '400', partition: '' }, 0.0001);
    const metric = await registry.getSingleMetric('kvstore_gate_request_duration_seconds')!.get();
    const buckets = readBuckets(metric);
    assert.deepEqual([...buckets.keys()].sort(), ['p0', 'p1']);
    assert.equal(buckets.get('p0')!.get(0.001), 1);
    assert.equal(buckets.get('p0')!.get(0.025), 2);
    assert.equal(buckets.get('p0')!.get(Infinity), 2);
    assert.equal(buckets.get('p1')!.get(Infinity), 1);
  });
});

describe('TrafficSampler', () => {
  it('keeps a point per sample per partition, at most the history length', async () => {
    const { registry, histogram } = gateHistogram();
    const clock = { now: 0 };
    const sampler = new TrafficSampler({ registry, historyLength: 3, now: () => clock.now });
    assert.deepEqual(sampler.traffic('p0'), { opsPerSecond: 0, p99Ms: null, history: [] });
    await sampler.sample();
    for (let second = 1; second <= 5; second++) {
      for (let request = 0; request < second * 10; request++) histogram.observe({ method: 'GET', code: '200', partition: 'p0' }, 0.0015);
      clock.now = second * 1000;
      await sampler.sample();
    }
    const traffic = sampler.traffic('p0');
    assert.equal(traffic.opsPerSecond, 50);
    assert.deepEqual(traffic.history.map((point) => point.opsPerSecond), [30, 40, 50]);
    assert.ok(traffic.p99Ms! > 1 && traffic.p99Ms! <= 2.5, String(traffic.p99Ms));
  });

  it('samples nothing while the registry has no request histogram', async () => {
    const sampler = new TrafficSampler({ registry: new Registry() });
    await sampler.sample();
    await sampler.sample();
    assert.deepEqual(sampler.traffic('p0').history, []);
  });
});
