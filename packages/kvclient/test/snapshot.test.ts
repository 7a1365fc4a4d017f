import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { KvClient, KvError, ndjsonLines } from '../src/index';
import { FakeGate } from '../src/testing';

describe('KvClient.openSnapshot', () => {
  let gate: FakeGate;
  let client: KvClient;

  before(async () => {
    gate = await FakeGate.start();
    client = new KvClient({ hosts: [gate.host], retries: 0 });
    for (let index = 0; index < 20; index++) await client.put(`key-${index}`, Buffer.from([index, 0, 255]), { ttlSeconds: index % 2 ? 60 : undefined });
  });
  after(async () => {
    client.close();
    await gate.close();
  });
  beforeEach(() => {
    gate.cutSnapshotAfter = null;
  });

  test("yields each partition's records once, with the header's seq and epoch", async () => {
    const seen = new Set<string>();
    for (const partition of ['p0', 'p1']) {
      const snapshot = await client.openSnapshot(partition);
      assert.equal(snapshot.partition, partition);
      assert.equal(snapshot.seq, 20);
      assert.equal(typeof snapshot.epoch, 'number');
      for await (const record of snapshot.records) {
        assert.equal(gate.partitionOf(record.key), partition);
        const index = Number(record.key.slice('key-'.length));
        assert.deepEqual(record.value, Buffer.from([index, 0, 255]));
        assert.equal(record.expiresAt === null, index % 2 === 0);
        seen.add(record.key);
      }
      assert.equal(snapshot.count, snapshot.estimatedRecords);
    }
    assert.equal(seen.size, 20);
  });

  test('a stream cut before its trailer fails with UNAVAILABLE', async () => {
    gate.cutSnapshotAfter = 2;
    const snapshot = await client.openSnapshot('p0');
    await assert.rejects(
      async () => {
        for await (const record of snapshot.records) void record;
      },
      (error: unknown) => error instanceof KvError && error.code === 'UNAVAILABLE' && /cut/.test(error.message),
    );
  });

  test('an unknown partition is NOT_FOUND', async () => {
    await assert.rejects(client.openSnapshot('nope'), (error: unknown) => error instanceof KvError && error.code === 'NOT_FOUND');
  });

  test('ndjsonLines splits across chunks and multi-byte characters', async () => {
    const text = Buffer.from('{"a":"ä"}\n{"b":2}\r\n{"c":3}');
    const chunks = [text.subarray(0, 7), text.subarray(7, 13), text.subarray(13)];
    const lines: string[] = [];
    for await (const line of ndjsonLines(Readable.from(chunks))) lines.push(line);
    assert.deepEqual(lines, ['{"a":"ä"}', '{"b":2}', '{"c":3}']);
  });
});
