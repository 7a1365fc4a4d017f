import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from '../src/replication/entry';
import type { AppendRequest } from '../src/replication/messages';
import { decodeAppend, encodeAppend } from '../src/wire/append-codec';
import { random } from './support/random';

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

const slotOperations: Array<[string, Operation]> = [
  ['a fence', { type: 'fence', slots: [0, 17, 4095] }],
  ['an unfence of no slot', { type: 'unfence', slots: [] }],
  [
    'an import that clears',
    {
      type: 'import',
      slots: [5, 6],
      clear: true,
      versionFloor: 2 ** 40,
      records: [
        { key: 'clé', value: Buffer.from([0, 1, 255]), version: 2 ** 40 - 1, expiresAt: null },
        { key: 'ttl', value: Buffer.alloc(0), version: 3, expiresAt: 1_800_000_000_000 },
      ],
    },
  ],
  ['an import of no record', { type: 'import', slots: [9], clear: false, versionFloor: 0, records: [] }],
  ['a purge', { type: 'purge', keys: ['a', '键', ''] }],
  ['a purge of no key', { type: 'purge', keys: [] }],
];

/** A frame of one entry whose body starts at BODY (leaderId and leaderUrl of one byte each). */
const frameOf = (op: Operation): Buffer =>
  Buffer.concat(encodeAppend({ epoch: 1, leaderId: 'l', leaderUrl: 'u', prevSeq: 0, prevEpoch: 0, commitSeq: 0, entries: [{ seq: 1, epoch: 1, op }] }));
const BODY = 32 + 3 + 3 + 4 + 17;

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

  it('round-trip the resharding operations, each imported value in memory of its own', () => {
    const withSlots = { ...request, entries: [...request.entries, ...slotOperations.map(([, op], index) => ({ seq: 2 ** 40 + 5 + index, epoch: 7, op }))] };
    const frame = Buffer.concat(encodeAppend(withSlots));
    const decoded = decodeAppend(frame);
    assert.deepEqual(decoded, withSlots);
    frame.fill(0);
    const imported = decoded.entries.find(({ op }) => op.type === 'import')!.op;
    assert.ok(imported.type === 'import');
    assert.deepEqual([...imported.records[0]!.value], [0, 1, 255]);
  });

  for (const [what, op] of slotOperations) {
    it(`refuse ${what} cut anywhere, or with a byte more`, () => {
      const frame = frameOf(op);
      assert.deepEqual(decodeAppend(frame).entries[0]!.op, op);
      for (let length = 0; length < frame.length; length++) assert.throws(() => decodeAppend(frame.subarray(0, length)), /truncated/, `cut to ${length}`);
      assert.throws(() => decodeAppend(Buffer.concat([frame, Buffer.from([0])])), /trailing/);
    });
  }

  it('refuse malformed resharding operations', () => {
    const patched = (op: Operation, patch: (frame: Buffer) => void): Buffer => {
      const frame = frameOf(op);
      patch(frame);
      return frame;
    };
    const fence: Operation = { type: 'fence', slots: [1] };
    const importOp: Operation = { type: 'import', slots: [1], clear: true, versionFloor: 5, records: [{ key: 'k', value: Buffer.from('v'), version: 4, expiresAt: null }] };
    // import body: clear u8 @0 | versionFloor @1 | slot count @9 | slot @11 | record count @13 | key @17 (u16 + 'k') | version @20 | expiresAt @28
    const cases: Array<[string, Buffer, RegExp]> = [
      ['a slot past the last', patched(fence, (frame) => frame.writeUInt16BE(4096, BODY + 2)), /names slot 4096/],
      ['more slots than exist', patched(fence, (frame) => frame.writeUInt16BE(4097, BODY)), /lists 4097 slots/],
      ['clear neither 0 nor 1', patched(importOp, (frame) => frame.writeUInt8(2, BODY)), /clear = 2/],
      ['a negative versionFloor', patched(importOp, (frame) => frame.writeDoubleBE(-1, BODY + 1)), /has a versionFloor that/],
      ['a fractional versionFloor', patched(importOp, (frame) => frame.writeDoubleBE(1.5, BODY + 1)), /has a versionFloor that/],
      ['a NaN version', patched(importOp, (frame) => frame.writeDoubleBE(NaN, BODY + 20)), /has a version that/],
      ['an infinite expiresAt', patched(importOp, (frame) => frame.writeDoubleBE(Infinity, BODY + 28)), /has an expiresAt that/],
      ['a fractional expiresAt', patched(importOp, (frame) => frame.writeDoubleBE(0.5, BODY + 28)), /has an expiresAt that/],
      ['an unknown type', patched(fence, (frame) => frame.writeUInt8(8, BODY - 1)), /unknown type/],
    ];
    for (const [what, frame, message] of cases) assert.throws(() => decodeAppend(frame), message, what);
  });

  it('never accept a mutated resharding operation that breaks its invariants, nor crash on it', () => {
    const next = random(20_261_206);
    const frames = slotOperations.map(([, op]) => frameOf(op));
    for (let round = 0; round < 5000; round++) {
      const frame = Buffer.from(frames[round % frames.length]!);
      for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--) frame[BODY + Math.floor(next() * (frame.length - BODY))] = Math.floor(next() * 256);
      let decoded: AppendRequest;
      try {
        decoded = decodeAppend(frame);
      } catch (error) {
        assert.ok(error instanceof Error, `round ${round}: ${String(error)}`);
        continue;
      }
      const op = decoded.entries[0]!.op;
      if ('slots' in op) assert.ok(op.slots.every((slot) => Number.isInteger(slot) && slot >= 0 && slot < 4096), `round ${round}`);
      if (op.type === 'import') {
        assert.ok(Number.isSafeInteger(op.versionFloor) && op.versionFloor >= 0, `round ${round}`);
        for (const { version, expiresAt } of op.records) assert.ok(Number.isSafeInteger(version) && version >= 0 && (expiresAt === null || Number.isSafeInteger(expiresAt)), `round ${round}`);
      }
    }
  });
});
