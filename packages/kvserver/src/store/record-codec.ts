import { crc32 } from 'node:zlib';
import { ByteReader } from '@kvstore/wire';
import type { LogEntry } from '../replication/entry';
import type { StoredValue } from '../replication/kv-store';
import { decodeSlotOperation, encodeSlotOperation, isSlotOperation } from '../wire/slot-operation-codec';

/**
 * On-disk records. Every record starts with a CRC-32 of what follows (and of
 * its own key), because neither engine checks our records for us: LMDB has
 * no checksums at all through lmdb-js.
 *
 *   log:   crc32 u32 | type u8 | epoch f64 | expiresAt f64 (NaN = none; an expire's version) | keyLength u32 | key | value
 *          (fence, unfence, import, purge: NaN, no key, and their body, slot-operation-codec.ts, as the value)
 *   state: crc32 u32 | version f64 | expiresAt f64 (NaN = none) | value
 */

export class CorruptRecordError extends Error {
  override name = 'CorruptRecordError';
}

const TYPES = ['put', 'delete', 'noop', 'expire', 'fence', 'unfence', 'import', 'purge'] as const;
const LOG_HEADER = 4 + 1 + 8 + 8 + 4;
const STATE_HEADER = 4 + 8 + 8;

function checksum(body: Buffer, salt: string | number): number {
  return crc32(body, crc32(String(salt)));
}

/** The record's one number: a put's expiry, an expire's version. */
function numberField(op: LogEntry['op']): number {
  if (op.type === 'expire') return op.version;
  return op.type === 'put' && op.expiresAt !== null ? op.expiresAt : NaN;
}

export function encodeLogEntry(entry: LogEntry): Buffer {
  const { op } = entry;
  const key = 'key' in op ? Buffer.from(op.key, 'utf8') : Buffer.alloc(0);
  const value = op.type === 'put' ? op.value : isSlotOperation(op) ? Buffer.concat(encodeSlotOperation(op)) : Buffer.alloc(0);
  const record = Buffer.allocUnsafe(LOG_HEADER + key.length + value.length);
  record.writeUInt8(TYPES.indexOf(op.type), 4);
  record.writeDoubleBE(entry.epoch, 5);
  record.writeDoubleBE(numberField(op), 13);
  record.writeUInt32BE(key.length, 21);
  key.copy(record, LOG_HEADER);
  value.copy(record, LOG_HEADER + key.length);
  record.writeUInt32BE(checksum(record.subarray(4), entry.seq), 0);
  return record;
}

export function decodeLogEntry(seq: number, record: Buffer): LogEntry {
  if (record.length < LOG_HEADER || record.readUInt32BE(0) !== checksum(record.subarray(4), seq)) {
    throw new CorruptRecordError(`log record ${seq} fails its checksum`);
  }
  const type = TYPES[record.readUInt8(4)];
  const epoch = record.readDoubleBE(5);
  const expiresAt = record.readDoubleBE(13);
  const keyLength = record.readUInt32BE(21);
  const key = record.toString('utf8', LOG_HEADER, LOG_HEADER + keyLength);
  const body = record.subarray(LOG_HEADER + keyLength);
  // A copy: the engine may reuse the memory behind `record`.
  if (type === 'put') return { seq, epoch, op: { type, key, value: Buffer.from(body), expiresAt: Number.isNaN(expiresAt) ? null : expiresAt } };
  if (type === 'delete') return { seq, epoch, op: { type, key } };
  if (type === 'expire') return { seq, epoch, op: { type, key, version: expiresAt } };
  if (type === 'noop') return { seq, epoch, op: { type } };
  if (type === undefined) throw new CorruptRecordError(`log record ${seq} has an unknown type`);
  return { seq, epoch, op: decodeSlotBody(seq, type, body) };
}

/** A resharding operation's body; it passed the checksum, so a malformed one was written so (a bug, or another version): corrupt all the same. */
function decodeSlotBody(seq: number, type: 'fence' | 'unfence' | 'import' | 'purge', body: Buffer): LogEntry['op'] {
  const what = `log record ${seq}`;
  try {
    const reader = new ByteReader(body, what);
    const op = decodeSlotOperation(type, reader, what);
    if (reader.offset !== body.length) throw new Error(`${what} has trailing bytes`);
    return op;
  } catch (error) {
    throw new CorruptRecordError((error as Error).message);
  }
}

export function encodeStateValue(key: string, stored: StoredValue): Buffer {
  const record = Buffer.allocUnsafe(STATE_HEADER + stored.value.length);
  record.writeDoubleBE(stored.version, 4);
  record.writeDoubleBE(stored.expiresAt ?? NaN, 12);
  stored.value.copy(record, STATE_HEADER);
  record.writeUInt32BE(checksum(record.subarray(4), key), 0);
  return record;
}

export function decodeStateValue(key: string, record: Buffer): StoredValue {
  if (record.length < STATE_HEADER || record.readUInt32BE(0) !== checksum(record.subarray(4), key)) {
    throw new CorruptRecordError(`the stored value of key ${JSON.stringify(key.slice(0, 64))} fails its checksum`);
  }
  const expiresAt = record.readDoubleBE(12);
  return {
    version: record.readDoubleBE(4),
    expiresAt: Number.isNaN(expiresAt) ? null : expiresAt,
    value: Buffer.from(record.subarray(STATE_HEADER)),
  };
}
