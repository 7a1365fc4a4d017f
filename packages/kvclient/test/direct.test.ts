import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ringRecord, slotOf, SLOT_COUNT, type RoutingView } from '@kvstore/protocol';
import { KvClient, KvError } from '../src/index';
import { DirectRoutes } from '../src/direct/direct-routes';
import { RouteCache } from '../src/direct/route-cache';
import { FakeGate, refusingHost } from '../src/testing';

/** One partition p0 owning every slot, led by `leader`, with `isr` in sync. */
function onePartition(leader: string | null, members: Record<string, string>, isr: string[], version = 1): RoutingView {
  return {
    ring: ringRecord(version, new Array<string>(SLOT_COUNT).fill('p0')),
    partitions: {
      p0: {
        epoch: 1,
        leader: leader === null ? null : { id: leader, url: members[leader]! },
        isr,
        members: Object.entries(members).map(([id, url]) => ({ id, url })),
      },
    },
  };
}

const kvRequests = (fake: FakeGate): string[] => fake.requests.filter((line) => line.includes('/v1/kv/'));

describe('DirectRoutes', () => {
  test('sends writes and strong reads to the leader, eventual reads round the in-sync replicas only', () => {
    const view = onePartition('a', { a: 'http://a', b: 'http://b', c: 'http://c' }, ['a', 'b']);
    const routes = new DirectRoutes(view);
    assert.deepEqual(routes.target('k', 'write'), { partition: 'p0', url: 'http://a' });
    assert.deepEqual(routes.target('k', 'strong'), { partition: 'p0', url: 'http://a' });
    const eventual = [0, 1, 2, 3].map(() => routes.target('k', 'eventual')?.url);
    assert.deepEqual(eventual, ['http://a', 'http://b', 'http://a', 'http://b']);
  });

  test('routes each key by the slot table, and knows no target for a partition without a leader', () => {
    const owners = new Array<string>(SLOT_COUNT).fill('p0');
    owners[slotOf('moved')] = 'p1';
    const routes = new DirectRoutes({
      ring: ringRecord(3, owners),
      partitions: {
        p0: { epoch: 1, leader: { id: 'a', url: 'http://a' }, isr: ['a'], members: [{ id: 'a', url: 'http://a' }] },
        p1: { epoch: 2, leader: null, isr: ['x'], members: [{ id: 'x', url: 'http://x' }] },
      },
    });
    assert.equal(routes.ringVersion, 3);
    assert.equal(routes.target('stays', 'write')?.url, 'http://a');
    assert.equal(routes.target('moved', 'write'), undefined);
    assert.equal(routes.target('moved', 'eventual')?.url, 'http://x');
  });
});

describe('RouteCache', () => {
  let clock = 0;
  let loads = 0;
  let view = onePartition('a', { a: 'http://a' }, ['a']);
  const load = async (): Promise<RoutingView> => (loads++, view);
  beforeEach(() => {
    clock = 0;
    loads = 0;
    view = onePartition('a', { a: 'http://a' }, ['a']);
  });

  test('loads once at first use, again in the background once refreshMs old', async () => {
    const cache = new RouteCache(load, 1000, () => clock);
    assert.equal((await cache.routes())?.ringVersion, 1);
    assert.equal((await cache.routes())?.ringVersion, 1);
    assert.equal(loads, 1);
    clock = 1000;
    view = onePartition('a', { a: 'http://a' }, ['a'], 2);
    assert.equal((await cache.routes())?.ringVersion, 1, 'an old table still routes while the next one loads');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await cache.routes())?.ringVersion, 2);
    assert.equal(loads, 2);
  });

  test('a table shown wrong routes nothing until a load that began after it lands', async () => {
    const cache = new RouteCache(load, 60_000, () => clock);
    await cache.routes();
    let finish: (view: RoutingView) => void = () => {};
    const slow = new RouteCache(() => (loads++, new Promise<RoutingView>((resolve) => (finish = resolve))), 60_000, () => clock);
    clock = 200;
    cache.invalidate();
    assert.equal(await cache.routes(), undefined, 'known wrong: take the gate');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(await cache.routes());

    // A load under way when the table is shown wrong does not clear it.
    const first = slow.routes();
    finish(view);
    await first;
    clock = 400;
    slow.invalidate();
    slow.invalidate();
    finish(view);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await slow.routes(), undefined);
    slow.stop();
  });

  test('a replica judging by an older ring than ours does not make the table wrong; an equal or newer one does', async () => {
    view = onePartition('a', { a: 'http://a' }, ['a'], 5);
    const cache = new RouteCache(load, 60_000, () => clock);
    await cache.routes();
    cache.invalidate(4);
    assert.ok(await cache.routes());
    cache.invalidate(5);
    assert.equal(await cache.routes(), undefined);
  });

  test('a gate answering something that is no table leaves the requests to the gate, without an error', async () => {
    const cache = new RouteCache(async () => ({ ring: null }) as unknown as RoutingView, 60_000, () => clock);
    assert.equal(await cache.routes(), undefined);
    cache.invalidate();
    cache.stop();
  });

  test('keeps the newer table when a lagging gate hands back an older ring', async () => {
    view = onePartition('a', { a: 'http://a' }, ['a'], 7);
    const cache = new RouteCache(load, 1, () => clock);
    await cache.routes();
    view = onePartition('b', { b: 'http://b' }, ['b'], 6);
    clock = 500;
    await cache.routes();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await cache.routes())?.target('k', 'write')?.url, 'http://a');
  });
});

describe('KvClient with routing: direct', () => {
  let gate: FakeGate;
  let leader: FakeGate;
  let follower: FakeGate;
  let client: KvClient;
  const url = (fake: FakeGate): string => `http://${fake.host}`;

  before(async () => {
    [gate, leader, follower] = await Promise.all([FakeGate.start(), FakeGate.start(), FakeGate.start()]);
  });
  after(async () => {
    await Promise.all([gate.close(), leader.close(), follower.close()]);
  });
  beforeEach(() => {
    for (const fake of [gate, leader, follower]) {
      fake.fault = null;
      fake.requests.length = 0;
    }
    gate.routing = onePartition('l', { l: url(leader), f: url(follower) }, ['l', 'f']);
    client = new KvClient({ hosts: gate.host, routing: 'direct', retries: 0 });
  });
  afterEach(() => client.close());

  test('sends writes and strong reads to the leader and eventual reads to in-sync replicas, none through the gate', async () => {
    await client.put('k', 'v');
    assert.equal((await client.get('k')).value.toString(), 'v');
    await client.get('k', { consistency: 'eventual' }).catch(() => undefined);
    await client.get('k', { consistency: 'eventual' }).catch(() => undefined);
    assert.deepEqual(kvRequests(gate), []);
    assert.deepEqual(kvRequests(leader), ['PUT /v1/kv/k', 'GET /v1/kv/k', 'GET /v1/kv/k?consistency=eventual']);
    assert.deepEqual(kvRequests(follower), ['GET /v1/kv/k?consistency=eventual']);
    assert.deepEqual(gate.requests, ['GET /v1/routing']);
  });

  test('a NOT_LEADER goes to the gate (it was not applied), the table is read again, and the next write follows the new leader', async () => {
    await client.put('warm', 'up');
    leader.fault = { kind: 'error', code: 'NOT_LEADER' };
    gate.routing = onePartition('f', { l: url(leader), f: url(follower) }, ['l', 'f'], 1);
    await client.put('k', 'v1');
    assert.deepEqual(kvRequests(gate), ['PUT /v1/kv/k'], 'the refused write is sent once more, through the gate');
    await waitFor(() => gate.requests.filter((line) => line === 'GET /v1/routing').length === 2);
    await new Promise((resolve) => setImmediate(resolve));
    await client.put('k', 'v2');
    assert.deepEqual(kvRequests(follower), ['PUT /v1/kv/k']);
  });

  test('a NOT_LEADER naming another member is followed there once, not through the gate, and the table takes that leader', async () => {
    await client.put('warm', 'up');
    leader.fault = { kind: 'error', code: 'NOT_LEADER', leader: url(follower) };
    gate.routing = onePartition('f', { l: url(leader), f: url(follower) }, ['l', 'f']);
    await client.put('k', 'v1');
    await client.put('k', 'v2');
    assert.deepEqual(kvRequests(leader), ['PUT /v1/kv/warm', 'PUT /v1/kv/k'], 'refused once, then passed by');
    assert.deepEqual(kvRequests(follower), ['PUT /v1/kv/k', 'PUT /v1/kv/k']);
    assert.deepEqual(kvRequests(gate), []);
  });

  test('a NOT_LEADER naming a replica that is no member of the partition, or naming one that refuses too, goes to the gate', async () => {
    await client.put('warm', 'up');
    const stranger = await FakeGate.start();
    try {
      leader.fault = { kind: 'error', code: 'NOT_LEADER', leader: url(stranger) };
      await client.put('k', 'v1');
      assert.deepEqual(kvRequests(stranger), [], 'a replica the table does not know is not sent the request (nor the token)');
      assert.deepEqual(kvRequests(gate), ['PUT /v1/kv/k']);
    } finally {
      await stranger.close();
    }

    await waitFor(async () => {
      leader.fault = null;
      const before = kvRequests(leader).length;
      await client.put('warm', 'up');
      return kvRequests(leader).length > before;
    });
    leader.fault = { kind: 'error', code: 'NOT_LEADER', leader: url(follower) };
    follower.fault = { kind: 'error', code: 'NOT_LEADER', leader: url(leader) };
    await client.put('k', 'v2');
    assert.deepEqual(kvRequests(follower), ['PUT /v1/kv/k'], 'followed once, not back and forth');
    assert.deepEqual(kvRequests(gate).filter((line) => line === 'PUT /v1/kv/k'), ['PUT /v1/kv/k', 'PUT /v1/kv/k']);
  });

  test('a WRONG_PARTITION or a 503 goes to the gate, and the table is read again', async () => {
    for (const code of ['WRONG_PARTITION', 'UNAVAILABLE'] as const) {
      // The table the last refusal asked for is in once a write reaches the leader again (until then the gate takes them).
      leader.fault = null;
      await waitFor(async () => {
        const before = kvRequests(leader).length;
        await client.put('warm', 'up');
        return kvRequests(leader).length > before;
      });
      leader.fault = { kind: 'error', code };
      const reads = gate.requests.filter((line) => line === 'GET /v1/routing').length;
      await client.put(`k-${code}`, 'v');
      assert.ok(kvRequests(gate).includes(`PUT /v1/kv/k-${code}`));
      await waitFor(() => gate.requests.filter((line) => line === 'GET /v1/routing').length > reads);
    }
  });

  test('never resends a write whose replica may have applied it: TIMEOUT, and the gate sees nothing', async () => {
    await client.put('warm', 'up');
    leader.fault = { kind: 'reset' };
    await assert.rejects(client.put('k', 'v'), (error: unknown) => error instanceof KvError && error.code === 'TIMEOUT');
    leader.fault = { kind: 'error', code: 'TIMEOUT' };
    await assert.rejects(client.delete('k'), (error: unknown) => error instanceof KvError && error.code === 'TIMEOUT');
    assert.deepEqual(kvRequests(gate), []);
  });

  test('a read whose replica did not answer is read through the gate', async () => {
    await client.put('warm', 'up');
    gate.entries.set('k', { value: Buffer.from('from-gate'), version: 1, expiresAtMs: null });
    leader.fault = { kind: 'reset' };
    assert.equal((await client.get('k')).value.toString(), 'from-gate');
    assert.deepEqual(kvRequests(gate), ['GET /v1/kv/k']);
  });

  test('a write to a replica that refuses the connection goes to the gate: nothing was sent', async () => {
    gate.routing = onePartition('gone', { gone: `http://${await refusingHost()}` }, ['gone']);
    await client.put('k', 'v');
    assert.deepEqual(kvRequests(gate), ['PUT /v1/kv/k']);
  });

  test('a replica without the door (a rolling upgrade) is asked once: its keys go through the gate, the table stays good for the others', async () => {
    const old = await FakeGate.start({ clientDoor: false });
    try {
      // p1 (the key "upgraded") is led by a replica with the door, p0 (every other key) by one from before it.
      const owners = new Array<string>(SLOT_COUNT).fill('p0');
      owners[slotOf('upgraded')] = 'p1';
      gate.routing = {
        ring: ringRecord(1, owners),
        partitions: {
          p0: { epoch: 1, leader: { id: 'old', url: url(old) }, isr: ['old'], members: [{ id: 'old', url: url(old) }] },
          p1: { epoch: 1, leader: { id: 'l', url: url(leader) }, isr: ['l'], members: [{ id: 'l', url: url(leader) }] },
        },
      };
      for (let i = 0; i < 3; i++) {
        await client.put(`k${i}`, 'v');
        await client.put('upgraded', `v${i}`);
      }
      assert.deepEqual(kvRequests(gate), ['PUT /v1/kv/k0', 'PUT /v1/kv/k1', 'PUT /v1/kv/k2']);
      assert.deepEqual(kvRequests(leader), ['PUT /v1/kv/upgraded', 'PUT /v1/kv/upgraded', 'PUT /v1/kv/upgraded'], 'the other partition still goes straight to its leader');
      assert.deepEqual(old.upgrades, ['/v1/mux'], 'one knock, not one per request');
      assert.deepEqual(gate.requests.filter((line) => line === 'GET /v1/routing'), ['GET /v1/routing'], 'the table was not read again');
    } finally {
      await old.close();
    }
  });

  test('a final refusal of the replica is the answer, not sent again', async () => {
    await client.put('k', 'v');
    await assert.rejects(client.put('k', 'w', { ifMatch: 999 }), (error: unknown) => error instanceof KvError && error.code === 'PRECONDITION_FAILED');
    leader.fault = { kind: 'error', code: 'FORBIDDEN' };
    await assert.rejects(client.get('k'), (error: unknown) => error instanceof KvError && error.code === 'FORBIDDEN');
    assert.deepEqual(kvRequests(gate), []);
  });

  test('a request\'s fields reach the replica as the frame\'s: ttl, create-only, if-match and consistency', async () => {
    await client.put('k', 'v', { ttlSeconds: 30 });
    assert.ok(leader.entries.get('k')?.expiresAtMs !== null, 'the ttl arrived');
    await assert.rejects(client.put('k', 'again', { ifNoneMatch: true }), (error: unknown) => error instanceof KvError && error.code === 'PRECONDITION_FAILED');
    const { version } = await client.get('k');
    assert.equal((await client.delete('k', { ifMatch: version })).deleted, true);
    await assert.rejects(client.put('k', 'v', { ttlSeconds: 0 }), (error: unknown) => error instanceof KvError && error.code === 'BAD_REQUEST');
    assert.deepEqual(kvRequests(leader), ['PUT /v1/kv/k?ttl=30', 'PUT /v1/kv/k', 'GET /v1/kv/k', 'DELETE /v1/kv/k']);
    assert.deepEqual(kvRequests(gate), [], 'nothing, not even the refused ttl, went through the gate');
  });

  test('with every gate down, requests go on straight to the replicas by the last table', async () => {
    const lone = await FakeGate.start();
    lone.routing = onePartition('l', { l: url(leader) }, ['l']);
    const alone = new KvClient({ hosts: lone.host, routing: 'direct', retries: 0, routingRefreshMs: 1 });
    try {
      await alone.put('before', 'v');
      lone.fault = { kind: 'reset' };
      const tableReads = (): number => lone.requests.filter((line) => line === 'GET /v1/routing').length;
      let sent = 0;
      // Until the table's background refresh has failed twice against the gate that is down.
      await waitFor(async () => {
        await alone.put(`after-${sent++}`, 'v');
        return tableReads() >= 3;
      });
      assert.equal(kvRequests(leader).length, sent + 1, 'every write reached the leader');
      assert.deepEqual(kvRequests(lone), [], 'none was handed to the gate');
    } finally {
      alone.close();
      await lone.close();
    }
  });

  test('without a routing table (a gate with no ring) every request goes through the gate', async () => {
    gate.routing = null;
    await client.put('k', 'v');
    assert.deepEqual(kvRequests(gate), ['PUT /v1/kv/k']);
    assert.deepEqual(kvRequests(leader), []);
  });
});

/** Polls until `condition` holds; 10 s, so that a loaded machine does not fail it. */
async function waitFor(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
