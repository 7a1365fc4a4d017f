import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeGate } from '@kvstore/kvclient/testing';
import { ringRecord, SLOT_COUNT } from '@kvstore/protocol';
import { runKvctl } from './harness';

describe('kvctl --direct', () => {
  let gate: FakeGate;
  let replica: FakeGate;
  before(async () => {
    [gate, replica] = await Promise.all([FakeGate.start(), FakeGate.start()]);
    const url = `http://${replica.host}`;
    gate.routing = {
      ring: ringRecord(1, new Array<string>(SLOT_COUNT).fill('p0')),
      partitions: { p0: { epoch: 1, leader: { id: 'r1', url }, isr: ['r1'], members: [{ id: 'r1', url }] } },
    };
  });
  after(async () => {
    await Promise.all([gate.close(), replica.close()]);
  });

  test('puts and gets at the replica the routing table names; the gate only gives the table', async () => {
    assert.equal((await runKvctl(['--host', gate.host, '--direct', 'put', 'k', 'v'])).code, 0);
    const got = await runKvctl(['--host', gate.host, '--direct', 'get', 'k']);
    assert.equal(got.stdout.toString(), 'v');
    assert.deepEqual(replica.requests, ['PUT /v1/kv/k', 'GET /v1/kv/k']);
    assert.deepEqual(gate.requests, ['GET /v1/routing', 'GET /v1/routing']);
  });
});
