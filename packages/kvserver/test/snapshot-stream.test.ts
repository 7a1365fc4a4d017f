import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough, Readable } from 'node:stream';
import type { Response } from 'express';
import type { SnapshotRecord } from '../src/replication/kv-store';
import type { SnapshotStream } from '../src/replication/messages';
import { readSnapshot, writeSnapshot } from '../src/wire/snapshot-stream';

const records: SnapshotRecord[] = [
  { key: 'a', value: Buffer.from([0, 255, 10]), version: 17, expiresAt: null },
  { key: 'clé', value: Buffer.alloc(0), version: 2 ** 40, expiresAt: 1_767_225_600_000 },
];

/** What writeSnapshot sends, as the stream a reader gets (a PassThrough stands in for the HTTP response). */
function written(slots: { fenced: Set<number>; versionOffset: number }): Readable {
  const stream = new PassThrough();
  const response = Object.assign(stream, { type: () => response }) as unknown as Response;
  writeSnapshot(response, { seq: 120, epoch: 3, slots, records, close: () => {} });
  return stream;
}

async function drain(stream: SnapshotStream): Promise<SnapshotRecord[]> {
  const all: SnapshotRecord[] = [];
  for await (const chunk of stream.chunks) all.push(...chunk);
  return all;
}

const lines = (...objects: unknown[]): Readable => Readable.from([objects.map((object) => (typeof object === 'string' ? object : JSON.stringify(object))).join('\n')]);

describe('snapshot stream', () => {
  it('round-trips the applied point, the slot state and every record', async () => {
    const read = await readSnapshot(written({ fenced: new Set([4095, 0, 7]), versionOffset: 500 }));
    assert.deepEqual([read.seq, read.epoch], [120, 3]);
    assert.deepEqual([[...read.slots.fenced].sort((x, y) => x - y), read.slots.versionOffset], [[0, 7, 4095], 500]);
    assert.deepEqual(await drain(read), records);
  });

  it('writes the slot state into the header line', async () => {
    const stream = written({ fenced: new Set([9, 2]), versionOffset: 4 });
    let text = '';
    for await (const chunk of stream) text += String(chunk);
    assert.deepEqual(JSON.parse(text.split('\n')[0]!), { seq: 120, epoch: 3, slots: { fenced: [2, 9], versionOffset: 4 } });
  });

  it('reads a header without slots (an older writer) as no fenced slot and offset 0', async () => {
    const read = await readSnapshot(lines({ seq: 5, epoch: 1 }, { end: 0 }));
    assert.deepEqual([read.slots.fenced.size, read.slots.versionOffset], [0, 0]);
    assert.deepEqual(await drain(read), []);
  });

  for (const [what, header] of [
    ['a fenced slot past the last', { seq: 1, epoch: 1, slots: { fenced: [4096], versionOffset: 0 } }],
    ['fenced that is not an array', { seq: 1, epoch: 1, slots: { fenced: '1', versionOffset: 0 } }],
    ['a negative offset', { seq: 1, epoch: 1, slots: { fenced: [], versionOffset: -1 } }],
    ['slots that is not an object', { seq: 1, epoch: 1, slots: 3 }],
    ['no seq', { epoch: 1 }],
    ['a fractional epoch', { seq: 1, epoch: 1.5 }],
    ['a header that is not an object', [1, 2]],
    ['a header that is not JSON', '{"seq":'],
  ] as const) {
    it(`refuses ${what} in the header`, async () => {
      await assert.rejects(readSnapshot(lines(header, { end: 0 })), /snapshot header/);
    });
  }

  for (const [what, line] of [
    ['a record without a version', { key: 'a', value: 'AA==', expiresAt: null }],
    ['a record whose key is not a string', { key: 1, value: 'AA==', version: 1, expiresAt: null }],
    ['a record with a fractional expiresAt', { key: 'a', value: 'AA==', version: 1, expiresAt: 0.5 }],
    ['a record whose value is not base64', { key: 'a', value: 'not base64!', version: 1, expiresAt: null }],
    ['a line that is not JSON', 'garbage'],
    ['a line that is not an object', 'null'],
  ] as const) {
    it(`refuses ${what}`, async () => {
      const read = await readSnapshot(lines({ seq: 1, epoch: 1 }, line, { end: 1 }));
      await assert.rejects(drain(read), /snapshot record 1/);
    });
  }

  it('refuses a stream cut before its trailer, or whose trailer disagrees', async () => {
    await assert.rejects(drain(await readSnapshot(lines({ seq: 1, epoch: 1 }, { key: 'a', value: '', version: 1, expiresAt: null }))), /ended early/);
    await assert.rejects(drain(await readSnapshot(lines({ seq: 1, epoch: 1 }, { end: 2 }))), /trailer says 2/);
    await assert.rejects(readSnapshot(Readable.from([])), /empty/);
  });
});
