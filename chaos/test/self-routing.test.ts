import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KvClient } from '@kvstore/kvclient';
import { FakeGate } from '@kvstore/kvclient/testing';
import { SLOT_COUNT, ringRecord } from '@kvstore/protocol';
import { selfRoutingAttempt } from '../src/workload/self-routing';

let gate: FakeGate;
let leader: FakeGate;
let client: KvClient;

before(async () => {
  [gate, leader] = await Promise.all([FakeGate.start(), FakeGate.start()]);
  const url = `http://${leader.host}`;
  gate.routing = {
    ring: ringRecord(1, new Array<string>(SLOT_COUNT).fill('p0')),
    partitions: { p0: { epoch: 1, leader: { id: 'l', url }, isr: ['l'], members: [{ id: 'l', url }] } },
  };
  client = new KvClient({ hosts: gate.host, routing: 'direct', retries: 0, timeoutMs: 1000 });
});
after(async () => {
  client.close();
  await Promise.all([gate.close(), leader.close()]);
});

test('the self-routing route records answers as the history wants them: values, versions as ETags, error codes, unknown outcomes', async () => {
  const written = await selfRoutingAttempt(client, 'PUT', '/v1/kv/k', { 'if-none-match': '*' }, 'one');
  assert.deepEqual(written, { kind: 'answered', status: 200, body: '', etag: '"1"', partition: null, replica: null });
  const read = await selfRoutingAttempt(client, 'GET', '/v1/kv/k?consistency=strong', {});
  assert.deepEqual([read.kind, read.kind === 'answered' && read.body, read.kind === 'answered' && read.etag], ['answered', 'one', '"1"']);
  const stale = await selfRoutingAttempt(client, 'PUT', '/v1/kv/k', { 'if-match': '"7"' }, 'two');
  assert.deepEqual([stale.kind, stale.kind === 'answered' && stale.status], ['answered', 412]);
  const absent = await selfRoutingAttempt(client, 'GET', '/v1/kv/absent?consistency=strong', {});
  assert.ok(absent.kind === 'answered' && absent.status === 404 && absent.body.includes('NOT_FOUND'));
  // A write whose connection broke after it was sent: 504, an unknown outcome, and the gate never saw it.
  leader.fault = { kind: 'reset' };
  const lost = await selfRoutingAttempt(client, 'PUT', '/v1/kv/k', {}, 'three');
  assert.ok(lost.kind === 'answered' && lost.status === 504 && lost.body.includes('TIMEOUT'));
  assert.deepEqual(gate.requests.filter((line) => line.includes('/v1/kv/')), []);
});
