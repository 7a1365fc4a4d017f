import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppendRequest } from '../src/replication/messages';
import { decodeAppend, encodeAppend } from '../src/wire/append-codec';

const request: AppendRequest = {
  epoch: 7,
  leaderId: 'p0-r1',
  leaderUrl: 'http://127.0.0.1:4001',
  prevSeq: 2 ** 40,
  prevEpoch: 6,
  commitSeq: 2 ** 40 - 3,
  entries: [
    { seq: 2 ** 40 + 1, epoch: 7, op: { type: 'noop' } },
    { seq: 2 ** 40 + 2, epoch: 7, op: { type: 'put', key: 'clé', value: Buffer.from([0, 1, 255]), expiresAt: null } },
    { seq: 2 ** 40 + 3, epoch: 7, op: { type: 'put', key: 'empty', value: Buffer.alloc(0), expiresAt: 1_800_000_000_000 } },
    { seq: 2 ** 40 + 4, epoch: 7, op: { type: 'delete', key: 'gone' } },
  ],
};

describe('append frames', () => {
  it('round-trip every kind of entry, values as raw bytes', () => {
    assert.deepEqual(decodeAppend(Buffer.concat(encodeAppend(request))), request);
    const empty = { ...request, entries: [] };
    assert.deepEqual(decodeAppend(Buffer.concat(encodeAppend(empty))), empty);
  });

  it('give each value its own copy, not a view of the frame', () => {
    const frame = Buffer.concat(encodeAppend(request));
    const decoded = decodeAppend(frame);
    frame.fill(0);
    const put = decoded.entries[1]!.op;
    assert.ok(put.type === 'put');
    assert.deepEqual([...put.value], [0, 1, 255]);
  });

  it('refuse truncated frames and trailing bytes', () => {
    const frame = Buffer.concat(encodeAppend(request));
    for (const cut of [1, 10, frame.length - 1]) assert.throws(() => decodeAppend(frame.subarray(0, cut)), /truncated/);
    assert.throws(() => decodeAppend(Buffer.concat([frame, Buffer.from([0])])), /trailing/);
  });
});
