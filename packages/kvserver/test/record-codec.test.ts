import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import type { LogEntry } from '../src/replication/entry';
import type { StoredValue } from '../src/replication/kv-store';
import { CorruptRecordError, decodeLogEntry, decodeStateValue, encodeLogEntry, encodeStateValue } from '../src/store/record-codec';
import { deleteEntry, flipByte, noopEntry, putEntry } from './support/storage';

const binary = Buffer.from(Array.from({ length: 256 }, (_, byte) => byte));
const unicodeKey = 'clé/键/🔑 ключ';

const entries: Array<[string, LogEntry]> = [
  ['a put with a text value and no ttl', putEntry(1, 1, 'greeting', 'hello world')],
  ['a put with every byte value and a ttl', putEntry(2, 3, 'bin', binary, 1_700_000_123_456)],
  ['a put under a unicode key', putEntry(3, 3, unicodeKey, 'valeur ✓')],
  ['a put with an empty value', putEntry(4, 3, 'empty', Buffer.alloc(0))],
  ['a put with a 1024-byte key and a large value', putEntry(5, 4, 'k'.repeat(1024), Buffer.alloc(100_000, 7))],
  ['a put at a large seq and epoch', putEntry(2 ** 40, 2 ** 31, 'far', 'v')],
  ['a delete', deleteEntry(6, 4, unicodeKey)],
  ['a noop', noopEntry(7, 5)],
  ['a fence', { seq: 8, epoch: 5, op: { type: 'fence', slots: [0, 4095, 12] } }],
  ['an unfence of no slot', { seq: 9, epoch: 5, op: { type: 'unfence', slots: [] } }],
  [
    'an import that clears',
    {
      seq: 10,
      epoch: 5,
      op: {
        type: 'import',
        slots: [3],
        clear: true,
        versionFloor: 2 ** 40,
        records: [
          { key: unicodeKey, value: binary, version: 2 ** 40 - 2, expiresAt: 1_700_000_123_456 },
          { key: 'empty', value: Buffer.alloc(0), version: 1, expiresAt: null },
        ],
      },
    },
  ],
  ['an import of no record, without clear', { seq: 11, epoch: 5, op: { type: 'import', slots: [], clear: false, versionFloor: 0, records: [] } }],
  ['a purge', { seq: 12, epoch: 6, op: { type: 'purge', keys: ['a', unicodeKey, ''] } }],
];

const states: Array<[string, string, StoredValue]> = [
  ['a text value without expiry', 'greeting', { value: Buffer.from('hello'), version: 1, expiresAt: null }],
  ['binary bytes with an expiry', 'bin', { value: binary, version: 2 ** 40, expiresAt: 1_700_000_000_000 }],
  ['an empty value under a unicode key', unicodeKey, { value: Buffer.alloc(0), version: 9, expiresAt: null }],
];

function assertCorrupt(decode: () => unknown, what: string): void {
  assert.throws(decode, CorruptRecordError, what);
}

describe('record codec: log entries', () => {
  for (const [what, entry] of entries) {
    it(`round-trips ${what}`, () => {
      const decoded = decodeLogEntry(entry.seq, encodeLogEntry(entry));
      assert.deepEqual(decoded, entry);
    });
  }

  it('decodes values into memory of their own (the engine may reuse the record buffer)', () => {
    const record = encodeLogEntry(putEntry(1, 1, 'k', 'abc'));
    const decoded = decodeLogEntry(1, record);
    record.fill(0);
    assert.equal(decoded.op.type === 'put' && decoded.op.value.toString(), 'abc');
  });

  for (const [what, entry] of entries.filter(([, e]) => encodeLogEntry(e).length < 2000)) {
    it(`detects every flipped byte and every truncation of ${what}`, () => {
      const record = encodeLogEntry(entry);
      for (let index = 0; index < record.length; index++) {
        assertCorrupt(() => decodeLogEntry(entry.seq, flipByte(record, index)), `byte ${index} of ${record.length} flipped`);
      }
      for (let length = 0; length < record.length; length++) {
        assertCorrupt(() => decodeLogEntry(entry.seq, record.subarray(0, length)), `cut to ${length} of ${record.length} bytes`);
      }
      assertCorrupt(() => decodeLogEntry(entry.seq, Buffer.concat([record, Buffer.from([0])])), 'a byte appended');
    });
  }

  it('detects a single flipped bit anywhere in a large record', () => {
    const entry = entries.find(([what]) => what.includes('1024-byte key'))![1];
    const record = encodeLogEntry(entry);
    for (const index of [0, 4, 5, 13, 21, 25, 25 + 1023, 25 + 1024, Math.floor(record.length / 2), record.length - 1]) {
      const copy = Buffer.from(record);
      copy[index] = copy[index]! ^ 0x01;
      assertCorrupt(() => decodeLogEntry(entry.seq, copy), `bit 0 of byte ${index} flipped`);
    }
  });

  it('refuses a record read under another seq (moved or misplaced)', () => {
    for (const [what, entry] of entries) {
      const record = encodeLogEntry(entry);
      assertCorrupt(() => decodeLogEntry(entry.seq + 1, record), `${what} read as seq ${entry.seq + 1}`);
      assertCorrupt(() => decodeLogEntry(entry.seq - 1, record), `${what} read as seq ${entry.seq - 1}`);
    }
  });

  it('names the seq of the bad record', () => {
    assert.throws(() => decodeLogEntry(42, Buffer.alloc(3)), /log record 42 fails its checksum/);
  });

  it('follows the documented layout: crc32 of the body salted with the seq, then type, epoch, expiresAt, key length, key, value', () => {
    const record = encodeLogEntry(putEntry(7, 2, 'ké', 'v', 1234));
    const key = Buffer.from('ké');
    assert.equal(record.length, 25 + key.length + 1);
    assert.equal(record.readUInt32BE(0), crc32(record.subarray(4), crc32('7')));
    assert.deepEqual([record.readUInt8(4), record.readDoubleBE(5), record.readDoubleBE(13), record.readUInt32BE(21)], [0, 2, 1234, key.length]);
    assert.ok(Number.isNaN(encodeLogEntry(putEntry(7, 2, 'k', 'v')).readDoubleBE(13)), 'no ttl is NaN');
  });

  it('decodes imported values into memory of their own', () => {
    const record = encodeLogEntry({ seq: 1, epoch: 1, op: { type: 'import', slots: [1], clear: false, versionFloor: 0, records: [{ key: 'k', value: Buffer.from('abc'), version: 1, expiresAt: null }] } });
    const decoded = decodeLogEntry(1, record);
    record.fill(0);
    assert.equal(decoded.op.type === 'import' && decoded.op.records[0]!.value.toString(), 'abc');
  });

  it('refuses a well-checksummed resharding record whose body is malformed', () => {
    const resealed = (seq: number, record: Buffer): Buffer => {
      record.writeUInt32BE(crc32(record.subarray(4), crc32(String(seq))), 0);
      return record;
    };
    const corrupt = (record: Buffer, message: RegExp): void =>
      assert.throws(() => decodeLogEntry(4, record), (error: unknown) => error instanceof CorruptRecordError && message.test(error.message), String(message));
    corrupt(encodeLogEntry({ seq: 4, epoch: 1, op: { type: 'fence', slots: [4096] } }), /log record 4: fence names slot 4096/);
    const fence = encodeLogEntry({ seq: 4, epoch: 1, op: { type: 'fence', slots: [1, 2] } });
    corrupt(resealed(4, Buffer.concat([fence, Buffer.from([0])])), /log record 4 has trailing bytes/);
    corrupt(resealed(4, fence.subarray(0, fence.length - 1)), /log record 4 is truncated/);
    const purge = encodeLogEntry({ seq: 4, epoch: 1, op: { type: 'purge', keys: ['k'] } });
    corrupt(resealed(4, Buffer.concat([purge.subarray(0, 25), Buffer.from([0, 0, 0, 2]), purge.subarray(29)])), /truncated/);
  });

  it('refuses a well-checksummed record of an unknown type', () => {
    const record = encodeLogEntry(noopEntry(3, 1));
    record.writeUInt8(8, 4);
    record.writeUInt32BE(crc32(record.subarray(4), crc32('3')), 0);
    assert.throws(() => decodeLogEntry(3, record), (error: unknown) => error instanceof CorruptRecordError && /unknown type/.test(error.message));
  });
});

describe('record codec: state values', () => {
  for (const [what, key, stored] of states) {
    it(`round-trips ${what}`, () => {
      assert.deepEqual(decodeStateValue(key, encodeStateValue(key, stored)), stored);
    });

    it(`detects every flipped byte and truncation of ${what}`, () => {
      const record = encodeStateValue(key, stored);
      for (let index = 0; index < record.length; index++) assertCorrupt(() => decodeStateValue(key, flipByte(record, index)), `byte ${index} flipped`);
      for (let length = 0; length < record.length; length++) assertCorrupt(() => decodeStateValue(key, record.subarray(0, length)), `cut to ${length}`);
    });
  }

  it('refuses a value read under another key (moved or misplaced)', () => {
    const record = encodeStateValue('a', { value: Buffer.from('x'), version: 1, expiresAt: null });
    assertCorrupt(() => decodeStateValue('b', record), 'read under b');
    assertCorrupt(() => decodeStateValue('A', record), 'read under A');
    assertCorrupt(() => decodeStateValue('a ', record), 'read under "a "');
  });

  it('names the key whose value is bad', () => {
    assert.throws(() => decodeStateValue('some-key', Buffer.alloc(30)), /some-key/);
  });
});
