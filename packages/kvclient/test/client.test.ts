import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvClient, KvError } from '../src/index';
import { retryAfterMsOf } from '../src/http-errors';
import { FAKE_PARTITION, FAKE_REPLICA, FakeGate, SAMPLE_CLUSTER, refusingHost } from '../src/testing';

describe('KvClient against one gate', () => {
  let gate: FakeGate;
  let client: KvClient;

  before(async () => {
    gate = await FakeGate.start({ maxValueBytes: 1024 });
    client = new KvClient({ hosts: [gate.host], retries: 0 });
  });
  after(async () => {
    client.close();
    await gate.close();
  });
  beforeEach(() => {
    gate.fault = null;
  });

  test('put, get and delete round-trip binary values under awkward keys', async () => {
    const value = Buffer.from([0, 255, 10, 13, 0xc3, 0x28, 1]);
    const key = 'dir/ä key?x=1#frag%';
    const put = await client.put(key, value);
    assert.equal(put.key, key);
    const got = await client.get(key, { consistency: 'eventual' });
    assert.deepEqual(got.value, value);
    assert.equal(got.version, put.version);
    assert.equal(got.partition, FAKE_PARTITION);
    assert.equal(got.replica, FAKE_REPLICA);
    assert.ok(gate.requests.includes(`PUT /v1/kv/${encodeURIComponent(key)}`));

    const deleted = await client.delete(key);
    assert.equal(deleted.deleted, true);
    assert.equal((await client.delete(key)).deleted, false);
    assert.equal(await client.getOrNull(key), null);
  });

  test('every key the API accepts is reachable: . and .. and keys with / ? # %', async () => {
    const keys = ['.', '..', '...', './..', '/', '?', '#', '%', '%2E', 'a/../b', '..?x#y'];
    for (const [index, key] of keys.entries()) await client.put(key, `value ${index}`);
    assert.deepEqual([...gate.entries.keys()].filter((key) => keys.includes(key)).sort(), [...keys].sort());
    for (const [index, key] of keys.entries()) assert.equal((await client.get(key)).value.toString(), `value ${index}`, key);
    assert.ok(gate.requests.includes('PUT /v1/kv/%2E'));
    assert.ok(gate.requests.includes('GET /v1/kv/%2E%2E'));
    for (const key of keys) assert.equal((await client.delete(key)).deleted, true, key);
  });

  test('an empty value round-trips', async () => {
    await client.put('empty', '');
    assert.equal((await client.get('empty')).value.length, 0);
  });

  test('conditional writes and ttl are sent as the API expects', async () => {
    const first = await client.put('cas', 'a', { ifNoneMatch: true, ttlSeconds: 60 });
    await assert.rejects(client.put('cas', 'b', { ifNoneMatch: true }), { code: 'PRECONDITION_FAILED' });
    await assert.rejects(client.put('cas', 'b', { ifMatch: first.version + 100 }), { code: 'PRECONDITION_FAILED' });
    const second = await client.put('cas', 'b', { ifMatch: first.version });
    assert.ok(second.version > first.version);
    await assert.rejects(client.delete('cas', { ifMatch: first.version }), { code: 'PRECONDITION_FAILED' });
    assert.equal((await client.delete('cas', { ifMatch: second.version })).deleted, true);
    await assert.rejects(client.put('cas', 'c', { ttlSeconds: 0 }), { code: 'BAD_REQUEST' });
  });

  test('error answers become KvError with the API code and status', async () => {
    await assert.rejects(client.get('missing'), (error: unknown) => {
      assert.ok(error instanceof KvError);
      assert.equal(error.code, 'NOT_FOUND');
      assert.equal(error.status, 404);
      return true;
    });
    await assert.rejects(client.put('big', Buffer.alloc(1025)), { code: 'PAYLOAD_TOO_LARGE' });
    for (const code of ['UNAVAILABLE', 'TIMEOUT', 'BAD_REQUEST'] as const) {
      gate.fault = { kind: 'error', code };
      await assert.rejects(client.get('k'), { code });
    }
  });

  test('bad keys are refused before anything is sent', async () => {
    const sent = gate.requests.length;
    await assert.rejects(client.get(''), { code: 'BAD_REQUEST' });
    await assert.rejects(client.get('k'.repeat(1025)), { code: 'BAD_REQUEST' });
    for (const key of ['\ud800', 'a\udc00b']) {
      await assert.rejects(client.put(key, 'v'), { code: 'BAD_REQUEST', message: /lone surrogate/ });
      await assert.rejects(client.get(key), { code: 'BAD_REQUEST' });
    }
    assert.equal(gate.requests.length, sent);
  });

  test('cluster view and health', async () => {
    assert.deepEqual(await client.cluster(), SAMPLE_CLUSTER);
    assert.deepEqual(await client.health(), { host: `http://${gate.host}`, live: true, ready: true });
  });
});

describe('KvClient migration admin', () => {
  let gate: FakeGate;
  let client: KvClient;

  before(async () => {
    gate = await FakeGate.start();
    client = new KvClient({ hosts: [gate.host], retries: 0 });
  });
  after(async () => {
    client.close();
    await gate.close();
  });
  beforeEach(() => {
    gate.fault = null;
    gate.migration = null;
    gate.requests.length = 0;
  });

  test('add, remove and rebalance start a migration and resolve with it; migration() shows it, null before any', async () => {
    assert.equal(await client.migration(), null);
    const added = await client.addPartition('p 2');
    assert.deepEqual([added.kind, added.partition, added.state], ['add', 'p 2', 'running']);
    assert.deepEqual(await client.migration(), added);
    gate.migration = { ...added, state: 'done' };
    assert.equal((await client.removePartition('p1')).kind, 'remove');
    gate.migration = null;
    assert.equal((await client.rebalance()).kind, 'rebalance');
    assert.deepEqual(gate.requests, [
      'GET /v1/admin/migration',
      'POST /v1/admin/partitions/p%202',
      'GET /v1/admin/migration',
      'DELETE /v1/admin/partitions/p1',
      'POST /v1/admin/rebalance',
    ]);
  });

  test('abort resolves with the aborting migration; a refusal is a CONFLICT', async () => {
    await assert.rejects(client.abortMigration(), { code: 'CONFLICT', status: 409 });
    const started = await client.addPartition('p2');
    await assert.rejects(client.addPartition('p3'), { code: 'CONFLICT', message: new RegExp(`migration ${started.id} is running`) });
    assert.equal((await client.abortMigration()).state, 'aborting');
    await assert.rejects(client.addPartition('p0'), { code: 'CONFLICT' });
    gate.migration = null;
    await assert.rejects(client.addPartition('p0'), { code: 'BAD_REQUEST', message: /already on the ring/ });
  });

  test('a forced removal resolves with what it gave up', async () => {
    gate.forcedRemovalKeys = 77;
    const removed = await client.removePartition('p1', { force: true });
    assert.deepEqual(removed, { partition: 'p1', ringVersion: SAMPLE_CLUSTER.ring.version + 1, slotsGivenUp: 2048, keysGivenUp: 77 });
    assert.deepEqual(gate.requests, ['DELETE /v1/admin/partitions/p1?force=true']);
    await assert.rejects(client.removePartition(''), { code: 'BAD_REQUEST', message: /partition must not be empty/ });
  });

  test('a change that reached a gate is not sent to another one', async () => {
    const healthy = await FakeGate.start();
    gate.fault = { kind: 'reset' };
    const failover = new KvClient({ hosts: [gate.host, healthy.host], retries: 2, retryDelayMs: 1 });
    try {
      await assert.rejects(failover.addPartition('p2'), { code: 'TIMEOUT' });
      assert.deepEqual(healthy.requests, []);
      assert.equal(await failover.migration(), null, 'a read moves on');
    } finally {
      failover.close();
      await healthy.close();
    }
  });
});

describe('KvClient failover', () => {
  let gates: FakeGate[] = [];
  let clients: KvClient[] = [];
  const clientFor = (options: ConstructorParameters<typeof KvClient>[0]): KvClient => {
    const client = new KvClient(options);
    clients.push(client);
    return client;
  };
  const startGate = async (): Promise<FakeGate> => {
    const gate = await FakeGate.start();
    gates.push(gate);
    return gate;
  };
  after(async () => {
    clients.forEach((client) => client.close());
    await Promise.all(gates.map((gate) => gate.close()));
    clients = [];
    gates = [];
  });

  test('a refused connection moves on to the next gate, which is then tried first', async () => {
    const gate = await startGate();
    const client = clientFor({ hosts: [await refusingHost(), gate.host], retries: 0 });
    await client.put('k', 'v');
    assert.equal(client.currentHost, `http://${gate.host}`);
    assert.equal((await client.get('k')).value.toString(), 'v');
    assert.deepEqual(gate.requests, ['PUT /v1/kv/k', 'GET /v1/kv/k']);
  });

  test('no gate answering is UNAVAILABLE, with the cause kept', async () => {
    const hosts = [await refusingHost(), await refusingHost()];
    const client = clientFor({ hosts, retries: 1, retryDelayMs: 1 });
    await assert.rejects(client.put('k', 'v'), (error: unknown) => {
      assert.ok(error instanceof KvError);
      assert.equal(error.code, 'UNAVAILABLE');
      assert.match(error.message, /ECONNREFUSED/);
      assert.ok(error.cause);
      return true;
    });
  });

  test('a write that reached a gate is not sent to another one', async () => {
    const resetting = await startGate();
    const hanging = await startGate();
    const healthy = await startGate();
    resetting.fault = { kind: 'reset' };
    hanging.fault = { kind: 'hang' };

    const afterReset = clientFor({ hosts: [resetting.host, healthy.host], retries: 2, retryDelayMs: 1 });
    await assert.rejects(afterReset.put('k', 'v'), { code: 'TIMEOUT' });
    await assert.rejects(afterReset.delete('k'), { code: 'TIMEOUT' });
    const afterHang = clientFor({ hosts: [hanging.host, healthy.host], timeoutMs: 200, retries: 2 });
    await assert.rejects(afterHang.put('k', 'v'), { code: 'TIMEOUT' });

    assert.deepEqual(resetting.requests, ['PUT /v1/kv/k', 'DELETE /v1/kv/k']);
    assert.deepEqual(hanging.requests, ['PUT /v1/kv/k']);
    assert.deepEqual(healthy.requests, []);
  });

  test('a read moves on after any network failure', async () => {
    const resetting = await startGate();
    const healthy = await startGate();
    resetting.fault = { kind: 'reset' };
    healthy.entries.set('k', { value: Buffer.from('v'), version: 1, expiresAtMs: null });
    const client = clientFor({ hosts: [resetting.host, healthy.host], retries: 0 });
    assert.equal((await client.get('k')).value.toString(), 'v');
  });

  test('a bare 502 (a load balancer whose gate died) is an unknown outcome: a write is not resent anywhere', async () => {
    const failing = await startGate();
    const healthy = await startGate();
    failing.fault = { kind: 'bare', status: 502 };
    const client = clientFor({ hosts: [failing.host, healthy.host], retries: 2, retryDelayMs: 1 });
    for (const write of [() => client.put('k', 'v'), () => client.delete('k')]) {
      await assert.rejects(write(), (error: unknown) => {
        assert.ok(error instanceof KvError);
        assert.equal(error.code, 'TIMEOUT');
        assert.match(error.message, /answered HTTP 502 without an API error body; the request's outcome is unknown/);
        return true;
      });
    }
    assert.deepEqual(failing.requests, ['PUT /v1/kv/k', 'DELETE /v1/kv/k']);
    assert.deepEqual(healthy.requests, []);
    failing.fault = { kind: 'bare', status: 503 };
    await assert.rejects(client.put('k', 'v'), { code: 'TIMEOUT' });
    assert.deepEqual(healthy.requests, [], 'a 503 without the API error body is no refusal either');
  });

  test('a read after a bare 502 is repeated on the next gate', async () => {
    const failing = await startGate();
    const healthy = await startGate();
    failing.fault = { kind: 'bare', status: 502 };
    healthy.entries.set('k', { value: Buffer.from('v'), version: 1, expiresAtMs: null });
    const client = clientFor({ hosts: [failing.host, healthy.host], retries: 1, retryDelayMs: 1 });
    assert.equal((await client.get('k')).value.toString(), 'v');
    assert.deepEqual([failing.requests, healthy.requests], [['GET /v1/kv/k'], ['GET /v1/kv/k']]);
  });

  test('a JSON 503 UNAVAILABLE is resent to the next gate, since it was not applied', async () => {
    const refusing = await startGate();
    const healthy = await startGate();
    refusing.fault = { kind: 'error', code: 'UNAVAILABLE', message: 'partition p0 has no leader' };
    const client = clientFor({ hosts: [refusing.host, healthy.host], retries: 1, retryDelayMs: 1 });
    await client.put('k', 'v');
    assert.deepEqual([refusing.requests, healthy.requests], [['PUT /v1/kv/k'], ['PUT /v1/kv/k']]);
    assert.equal(client.currentHost, `http://${healthy.host}`);
  });

  test('a 421 is NOT_LEADER or WRONG_PARTITION, with or without the API error body, and is resent', async () => {
    const gate = await startGate();
    const single = clientFor({ hosts: [gate.host], retries: 0 });
    for (const code of ['NOT_LEADER', 'WRONG_PARTITION'] as const) {
      gate.fault = { kind: 'error', code };
      await assert.rejects(single.put('k', 'v'), (error: unknown) => error instanceof KvError && error.code === code && error.status === 421);
    }
    gate.fault = { kind: 'bare', status: 421 };
    await assert.rejects(single.put('k', 'v'), { code: 'NOT_LEADER' });

    const healthy = await startGate();
    const client = clientFor({ hosts: [gate.host, healthy.host], retries: 1, retryDelayMs: 1 });
    await client.put('moved', 'v');
    assert.deepEqual(healthy.requests, ['PUT /v1/kv/moved']);
  });

  test('a 503 is repeated after a pause, since it was not applied', async () => {
    const gate = await startGate();
    gate.fault = { kind: 'error', code: 'UNAVAILABLE' };
    const client = clientFor({ hosts: [gate.host], retries: 2, retryDelayMs: 1 });
    await assert.rejects(client.put('k', 'v'), { code: 'UNAVAILABLE' });
    assert.equal(gate.requests.length, 3);
    gate.fault = { kind: 'error', code: 'TIMEOUT' };
    await assert.rejects(client.put('k', 'v'), { code: 'TIMEOUT' });
    assert.equal(gate.requests.length, 4, 'a 504 write may have been applied, so it is not repeated');
  });

  test("a 429 is waited out for its Retry-After and repeated, writes too: the gate refused it before forwarding", async () => {
    const gate = await startGate();
    const client = clientFor({ hosts: [gate.host], retries: 1, retryDelayMs: 1, timeoutMs: 2000 });
    for (const [method, call] of [
      ['PUT', () => client.put('k', 'v')],
      ['DELETE', () => client.delete('k')],
    ] as const) {
      gate.fault = { kind: 'too-many', retryAfter: '1', times: 1 };
      const started = performance.now();
      await call();
      assert.ok(performance.now() - started >= 990, `${method} waited the Retry-After's second`);
    }
    assert.deepEqual(gate.requests, ['PUT /v1/kv/k', 'PUT /v1/kv/k', 'DELETE /v1/kv/k', 'DELETE /v1/kv/k']);
  });

  test('a 429 is not repeated past the retry budget, nor when its Retry-After is longer than an attempt may take', async () => {
    const gate = await startGate();
    const client = clientFor({ hosts: [gate.host], retries: 2, retryDelayMs: 1, timeoutMs: 1000 });
    gate.fault = { kind: 'too-many', retryAfter: '0', times: 5 };
    await assert.rejects(client.get('k'), (error: unknown) => error instanceof KvError && error.code === 'TOO_MANY_REQUESTS' && error.status === 429);
    assert.equal(gate.requests.length, 3, 'the first attempt and two retries');
    gate.fault = { kind: 'too-many', retryAfter: '2', times: 1 };
    await assert.rejects(client.put('k', 'v'), { code: 'TOO_MANY_REQUESTS' });
    assert.equal(gate.requests.length, 4, 'refused at once: 2 s is more than the 1 s an attempt may take');
    gate.fault = null;
    const unhonoured = clientFor({ hosts: [gate.host], retries: 2, retryDelayMs: 1 });
    gate.fault = { kind: 'error', code: 'TOO_MANY_REQUESTS' };
    await assert.rejects(unhonoured.put('k', 'v'), { code: 'TOO_MANY_REQUESTS' });
    assert.equal(gate.requests.length, 5, 'a 429 without Retry-After is not repeated');
  });
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMsOf('3', now), 3000);
  assert.equal(retryAfterMsOf(' 0 ', now), 0);
  assert.equal(retryAfterMsOf('Thu, 01 Jan 2026 00:00:02 GMT', now), 2000);
  assert.equal(retryAfterMsOf('Wed, 31 Dec 2025 23:59:00 GMT', now), 0, 'a date past is now');
  assert.equal(retryAfterMsOf('soon', now), undefined);
  assert.equal(retryAfterMsOf('-1', now), undefined);
  assert.equal(retryAfterMsOf(undefined, now), undefined);
});
