import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Forwarder, type ForwardRequest, type RetryReason } from '../src/proxy/forwarder';
import { MemoryTransport } from '../src/proxy/memory-transport';
import type { Answer } from '@kvstore/cluster';
import { TransportError } from '../src/proxy/transport';
import { RoutingState } from '../src/routing/routing-state';
import { keys, snapshotOf, urlOf, type PartitionSpec } from './fixtures';

const json = (status: number, body: unknown, replica?: string): Answer => ({
  status,
  headers: { 'content-type': 'application/json', ...(replica ? { 'x-kv-replica': replica } : {}) },
  body: Buffer.from(JSON.stringify(body)),
});
const ok = (replica: string): Answer => json(200, { key: 'k', version: 1 }, replica);
const notLeader = (leader?: string): Answer => json(421, { error: { code: 'NOT_LEADER', message: 'not the leader', leader } });

/**
 * The write timeout of a test whose wait ends at a change made by a timer:
 * long, so that a process stalled on a loaded host does not run past the
 * deadline before the timer's change lands (the test is no slower for it).
 */
const WAIT_ENDS_BY_CHANGE_MS = 10_000;

function setup(spec: Record<string, PartitionSpec>, writeTimeoutMs = 200) {
  const routing = new RoutingState();
  routing.update(snapshotOf(spec));
  const transport = new MemoryTransport();
  const forwarder = new Forwarder({ source: routing, transport, writeTimeoutMs });
  const keyOf = (partition: string): string => {
    const key = keys(1000).find((candidate) => routing.table().route(candidate)?.partition === partition);
    assert.ok(key, `no key for ${partition}`);
    return key;
  };
  return { routing, transport, forwarder, keyOf };
}

const request = { ttl: undefined, consistency: 'strong', ifMatch: undefined, ifNoneMatch: false, requestId: 'r-1', body: Buffer.alloc(0) } as const;
const put = (key: string): ForwardRequest => ({ ...request, method: 'PUT', key, body: Buffer.from('v') });
const get = (key: string, consistency: 'strong' | 'eventual' = 'strong'): ForwardRequest => ({ ...request, method: 'GET', key, consistency });

describe('Forwarder', () => {
  it('sends a write to the leader with its fields as parsed and the ring version it routed by', async () => {
    const { routing, transport, forwarder } = setup({ p0: { members: ['a', 'b'], leader: 'a' } });
    transport.serve(urlOf('a'), () => ok('a'));
    const write = { ...put('a b/ü'), ttl: 5, ifMatch: 3 };
    const result = await forwarder.forward(write);
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && [result.partition, result.replica], ['p0', 'a']);
    const { url, replica, timeoutMs, ...sent } = transport.requests[0]!;
    assert.deepEqual([url, replica, timeoutMs > 0], [urlOf('a'), 'a', true]);
    assert.deepEqual(sent, { ...write, routingVersion: routing.table().ringVersion });
  });

  it('follows a NOT_LEADER hint that names a live member', async () => {
    const { transport, forwarder } = setup({ p0: { members: ['a', 'b'], leader: 'a' } });
    transport.serve(urlOf('a'), () => notLeader(urlOf('b'))).serve(urlOf('b'), () => ok('b'));
    const result = await forwarder.forward(put('k'));
    assert.equal(result.ok && result.replica, 'b');
    assert.deepEqual(transport.requests.map((request) => request.url), [urlOf('a'), urlOf('b')]);
  });

  it('waits for the watcher when a NOT_LEADER hint is unknown', async () => {
    const { routing, transport, forwarder } = setup({ p0: { members: ['a', 'b'], leader: 'a' } }, WAIT_ENDS_BY_CHANGE_MS);
    transport.serve(urlOf('a'), () => notLeader('http://stranger:1')).serve(urlOf('b'), () => ok('b'));
    setTimeout(() => routing.update(snapshotOf({ p0: { members: ['a', 'b'], leader: 'b', epoch: 2 } })), 30);
    const result = await forwarder.forward(put('k'));
    assert.equal(result.ok && result.replica, 'b');
    assert.equal(transport.requestsTo('http://stranger:1').length, 0);
  });

  it('answers 503 after the deadline for a partition without a leader, touching no other partition', async () => {
    const { transport, forwarder, keyOf } = setup({ p0: { members: ['a'] }, p1: { members: ['c'], leader: 'c' } }, 150);
    transport.serve(urlOf('c'), () => ok('c'));
    const started = Date.now();
    const result = await forwarder.forward(put(keyOf('p0')));
    assert.ok(Date.now() - started >= 140, 'gave up before the deadline');
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.error.code, 'UNAVAILABLE');
    assert.equal(!result.ok && result.error.message, 'partition p0 has no leader');
    assert.equal(!result.ok && result.partition, 'p0');
    assert.equal(transport.requests.length, 0);
  });

  it('sends the write once a leader appears within the deadline', async () => {
    const { routing, transport, forwarder } = setup({ p0: { members: ['a'] } }, WAIT_ENDS_BY_CHANGE_MS);
    transport.serve(urlOf('a'), () => ok('a'));
    setTimeout(() => routing.update(snapshotOf({ p0: { members: ['a'], leader: 'a' } })), 30);
    const result = await forwarder.forward(put('k'));
    assert.equal(result.ok && result.replica, 'a');
  });

  it('answers 504 after exactly one attempt when a write may have reached the leader', async () => {
    const { transport, forwarder } = setup({ p0: { members: ['a', 'b'], leader: 'a' } });
    transport.serve(urlOf('a'), () => {
      throw new TransportError('unknown-outcome', 'socket reset');
    });
    const result = await forwarder.forward(put('k'));
    assert.equal(!result.ok && result.error.code, 'TIMEOUT');
    assert.equal(!result.ok && result.replica, 'a');
    assert.equal(transport.requests.length, 1);
  });

  it('passes a replica 504 through without retrying the write', async () => {
    const { transport, forwarder } = setup({ p0: { members: ['a'], leader: 'a' } });
    transport.serve(urlOf('a'), () => json(504, { error: { code: 'TIMEOUT', message: 'not acknowledged in time' } }));
    const result = await forwarder.forward(put('k'));
    assert.equal(!result.ok && result.error.code, 'TIMEOUT');
    assert.equal(transport.requests.length, 1);
  });

  it('retries a read whose answer was lost', async () => {
    const { transport, forwarder } = setup({ p0: { members: ['a'], leader: 'a' } });
    let calls = 0;
    transport.serve(urlOf('a'), () => {
      calls++;
      if (calls === 1) throw new TransportError('unknown-outcome', 'socket reset');
      return { status: 200, headers: { etag: '"3"' }, body: Buffer.from('value') };
    });
    const result = await forwarder.forward(get('k'));
    assert.equal(result.ok && result.response.body.toString(), 'value');
    assert.equal(calls, 2);
  });

  it('retries a refused write until the leader is back', async () => {
    const { transport, forwarder } = setup({ p0: { members: ['a'], leader: 'a' } }, WAIT_ENDS_BY_CHANGE_MS);
    setTimeout(() => transport.serve(urlOf('a'), () => ok('a')), 40);
    const result = await forwarder.forward(put('k'));
    assert.equal(result.ok && result.replica, 'a');
    assert.ok(transport.requests.length >= 2);
  });

  it('retries a write the replica refused with 503', async () => {
    const { transport, forwarder } = setup({ p0: { members: ['a'], leader: 'a' } });
    let calls = 0;
    transport.serve(urlOf('a'), () => (++calls === 1 ? json(503, { error: { code: 'UNAVAILABLE', message: 'isr too small' } }) : ok('a')));
    const result = await forwarder.forward(put('k'));
    assert.equal(result.ok, true);
    assert.equal(calls, 2);
  });

  it('keeps answering 503 with the replica message when every retry is refused', async () => {
    const { transport, forwarder } = setup({ p0: { members: ['a'], leader: 'a' } }, 100);
    transport.serve(urlOf('a'), () => json(503, { error: { code: 'UNAVAILABLE', message: 'isr too small' } }));
    const result = await forwarder.forward(put('k'));
    assert.equal(!result.ok && result.error.message, 'isr too small');
    assert.equal(!result.ok && result.replica, 'a');
  });

  it('waits for a newer ring on WRONG_PARTITION, then goes to the new owner', async () => {
    const { routing, transport, forwarder } = setup({ p0: { members: ['a'], leader: 'a' } }, WAIT_ENDS_BY_CHANGE_MS);
    const moved = snapshotOf({ p0: { members: ['a'], leader: 'a' }, p1: { members: ['c'], leader: 'c' } }, { version: 2 });
    const key = keys(1000).find((candidate) => isOwnedBy(moved, candidate, 'p1'));
    assert.ok(key);
    transport.serve(urlOf('a'), () => json(421, { error: { code: 'WRONG_PARTITION', message: 'not mine' } }));
    transport.serve(urlOf('c'), () => ok('c'));
    setTimeout(() => routing.update(moved), 30);
    const result = await forwarder.forward(put(key));
    assert.equal(result.ok && result.partition, 'p1');
  });

  describe('routing versions', () => {
    const wrongPartition = (version?: number): Answer => ({
      ...json(421, { error: { code: 'WRONG_PARTITION', message: 'not mine' } }),
      ...(version === undefined ? {} : { headers: { 'content-type': 'application/json', 'x-kv-routing-version': String(version) } }),
    });
    const before = snapshotOf({ p0: { members: ['a'], leader: 'a' } }, { version: 7 });
    const after = snapshotOf({ p0: { members: ['a'], leader: 'a' }, p1: { members: ['c'], leader: 'c' } }, { version: 8 });
    const movingKey = keys(1000).find((candidate) => isOwnedBy(after, candidate, 'p1'))!;

    function moving(writeTimeoutMs = 1000, cutoverWaitMs?: number) {
      const routing = new RoutingState();
      routing.update(before);
      const transport = new MemoryTransport();
      const retries: RetryReason[] = [];
      const onRetry = (reason: RetryReason): number => retries.push(reason);
      const forwarder = new Forwarder({ source: routing, transport, writeTimeoutMs, onRetry, ...(cutoverWaitMs === undefined ? {} : { cutoverWaitMs }) });
      transport.serve(urlOf('c'), () => ok('c'));
      return { routing, transport, forwarder, retries };
    }

    it('sends the ring version it routed by with every request', async () => {
      const { transport, forwarder } = moving();
      transport.serve(urlOf('a'), () => ok('a'));
      await forwarder.forward(put('k'));
      await forwarder.forward(get('k', 'eventual'));
      assert.deepEqual(transport.requests.map((request) => request.routingVersion), [7, 7]);
    });

    const cases = [["as new as the gate's (the slot is fenced for its cut-over)", 7], ["newer than the gate's", 9], ['unknown (a replica that predates it)', undefined]] as const;
    for (const [what, version] of cases) {
      it(`waits, without an error, for the next ring when the replica's version is ${what}, whatever else changes meanwhile`, async () => {
        const { routing, transport, forwarder, retries } = moving();
        transport.serve(urlOf('a'), () => wrongPartition(version));
        // A leader change elsewhere is no reason to try the old owner again.
        setTimeout(() => routing.update(snapshotOf({ p0: { members: ['a', 'b'], leader: 'a' } }, { version: 7 })), 10);
        setTimeout(() => routing.update(after), 60);
        const result = await forwarder.forward(put(movingKey));
        assert.deepEqual(result.ok && [result.partition, result.replica], ['p1', 'c']);
        assert.equal(transport.requestsTo(urlOf('a')).length, 1);
        assert.deepEqual(retries, ['migration']);
        assert.deepEqual(transport.requests.map((request) => request.routingVersion), [7, 8]);
      });
    }

    it('waits for a cut-over that outlasts the write timeout, up to its own bound, and then answers 503', async () => {
      const { routing, transport, forwarder } = moving(100);
      transport.serve(urlOf('a'), () => wrongPartition(7));
      setTimeout(() => routing.update(after), 300);
      const result = await forwarder.forward(put(movingKey));
      assert.deepEqual(result.ok && [result.partition, result.replica], ['p1', 'c'], 'three write timeouts later, still a wait');
      const stuck = moving(10, 200);
      stuck.transport.serve(urlOf('a'), () => wrongPartition(7));
      const started = Date.now();
      const refused = await stuck.forwarder.forward(put(movingKey));
      assert.equal(!refused.ok && refused.error.code, 'UNAVAILABLE');
      assert.ok(Date.now() - started >= 200, 'it waited for the cut-over');
    });

    it('tries again after a short pause when the replica is behind the gate, without waiting for a ring', async () => {
      const { routing, transport, forwarder, retries } = moving();
      routing.update(snapshotOf({ p0: { members: ['a'], leader: 'a' } }, { version: 9 }));
      let calls = 0;
      // The replica still judges by version 8, then catches up.
      transport.serve(urlOf('a'), () => (++calls === 1 ? wrongPartition(8) : ok('a')));
      const started = Date.now();
      const result = await forwarder.forward(put(movingKey));
      assert.equal(result.ok && result.replica, 'a');
      assert.ok(Date.now() - started < 500, 'a short pause, not the deadline');
      assert.deepEqual(retries, ['wrong_partition']);
    });

    it('routes again at once when the ring changed while the request was out', async () => {
      const { routing, transport, forwarder, retries } = moving();
      transport.serve(urlOf('a'), () => {
        routing.update(after);
        return wrongPartition(8);
      });
      const result = await forwarder.forward(put(movingKey));
      assert.equal(result.ok && result.partition, 'p1');
      assert.deepEqual(retries, ['wrong_partition'], 'the gate was behind: routed again at once');
    });

    it('answers 503 at the deadline when the cut-over does not end', async () => {
      const { transport, forwarder } = moving(120);
      transport.serve(urlOf('a'), () => wrongPartition(7));
      const started = Date.now();
      const result = await forwarder.forward(put(movingKey));
      assert.ok(Date.now() - started >= 110);
      assert.equal(!result.ok && result.error.code, 'UNAVAILABLE');
      assert.match(!result.ok ? result.error.message : '', /partition p0 is unavailable: not mine/);
      assert.equal(transport.requestsTo(urlOf('a')).length, 1);
    });
  });

  it('does not retry a final answer such as 412', async () => {
    const { transport, forwarder } = setup({ p0: { members: ['a'], leader: 'a' } });
    transport.serve(urlOf('a'), () => json(412, { error: { code: 'PRECONDITION_FAILED', message: 'version mismatch' } }));
    const result = await forwarder.forward(put('k'));
    assert.equal(!result.ok && result.error.code, 'PRECONDITION_FAILED');
    assert.equal(transport.requests.length, 1);
  });

  it('takes a bare 5xx (no API error body) for an unknown outcome: a write is answered 504 at once, a read is retried', async () => {
    const { transport, forwarder } = setup({ p0: { members: ['a'], leader: 'a' } });
    const bare = (): Answer => ({ status: 502, headers: { 'content-type': 'text/html' }, body: Buffer.from('<html>502</html>') });
    transport.serve(urlOf('a'), bare);
    const write = await forwarder.forward(put('k'));
    assert.equal(!write.ok && write.error.code, 'TIMEOUT');
    assert.match(!write.ok ? write.error.message : '', /replica a answered HTTP 502 without an API error body; the request's outcome is unknown/);
    assert.equal(transport.requests.length, 1);

    let reads = 0;
    transport.serve(urlOf('a'), () => (++reads === 1 ? bare() : { status: 200, headers: {}, body: Buffer.from('value') }));
    const read = await forwarder.forward(get('k'));
    assert.equal(read.ok && read.response.body.toString(), 'value');
    assert.equal(reads, 2);
  });

  it('takes a bare 421 for a NOT_LEADER without a hint', async () => {
    const { routing, transport, forwarder } = setup({ p0: { members: ['a', 'b'], leader: 'a' } }, WAIT_ENDS_BY_CHANGE_MS);
    transport.serve(urlOf('a'), () => ({ status: 421, headers: {}, body: Buffer.alloc(0) })).serve(urlOf('b'), () => ok('b'));
    setTimeout(() => routing.update(snapshotOf({ p0: { members: ['a', 'b'], leader: 'b', epoch: 2 } })), 30);
    const result = await forwarder.forward(put('k'));
    assert.equal(result.ok && result.replica, 'b');
    assert.equal(transport.requestsTo(urlOf('a')).length, 1);
  });

  it('spreads eventual reads over the replicas and skips one that is down', async () => {
    const { transport, forwarder } = setup({ p0: { members: ['a', 'b', 'c'], leader: 'a' } });
    for (const id of ['a', 'c']) transport.serve(urlOf(id), () => ({ status: 200, headers: { 'x-kv-replica': id }, body: Buffer.from(id) }));
    const served: string[] = [];
    for (let index = 0; index < 4; index++) {
      const result = await forwarder.forward(get('k', 'eventual'));
      served.push(result.ok ? result.replica : 'failed');
    }
    assert.deepEqual(served, ['a', 'c', 'a', 'c']);
  });
});

function isOwnedBy(snapshot: ReturnType<typeof snapshotOf>, key: string, partition: string): boolean {
  const routing = new RoutingState();
  routing.update(snapshot);
  return routing.table().route(key)?.partition === partition;
}
