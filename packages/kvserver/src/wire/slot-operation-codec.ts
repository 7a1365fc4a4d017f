import { SLOT_COUNT } from '@kvstore/protocol';
import { type ByteReader } from '@kvstore/wire';
import type { Operation, SlotOperation } from '../replication/entry';
import type { SnapshotRecord } from '../replication/kv-store';
import { isSlot } from '../store/slot-state';
import { ByteWriter, stringBytes } from './byte-writer';

/**
 * The binary body of the resharding operations, the same in an append
 * frame and in a log record on disk. Numbers are float64 (integers).
 *
 *   fence, unfence: slots
 *   import:  u8 clear (0 or 1) | versionFloor | slots | u32 count | record*
 *     record: key | version | expiresAt (NaN: none) | u32 value bytes | value
 *   purge:   u32 count | key*
 *   slots:   u16 count (at most 4096) | u16 slot*
 *   key:     u16 bytes | UTF-8
 */

export function isSlotOperation(op: Operation): op is SlotOperation {
  return op.type === 'fence' || op.type === 'unfence' || op.type === 'import' || op.type === 'purge';
}

function headBytes(op: SlotOperation): number {
  const slots = 'slots' in op ? 2 + 2 * op.slots.length : 0;
  if (op.type === 'purge') return op.keys.reduce((bytes, key) => bytes + stringBytes(key), 4);
  if (op.type === 'import') return op.records.reduce((bytes, record) => bytes + stringBytes(record.key) + 20, 1 + 8 + slots + 4);
  return slots;
}

function writeSlots(writer: ByteWriter, slots: readonly number[]): void {
  writer.u16(slots.length);
  for (const slot of slots) writer.u16(slot);
}

/** The body as parts: each imported value is its own part, not copied. */
export function encodeSlotOperation(op: SlotOperation): Buffer[] {
  const writer = new ByteWriter(Buffer.allocUnsafe(headBytes(op)));
  if (op.type === 'purge') {
    writer.u32(op.keys.length);
    for (const key of op.keys) writer.string(key);
    return [writer.buffer];
  }
  if (op.type !== 'import') {
    writeSlots(writer, op.slots);
    return [writer.buffer];
  }
  writer.u8(op.clear ? 1 : 0);
  writer.number(op.versionFloor);
  writeSlots(writer, op.slots);
  writer.u32(op.records.length);
  const parts: Buffer[] = [];
  let start = 0;
  for (const { key, version, expiresAt, value } of op.records) {
    writer.string(key);
    writer.number(version);
    writer.number(expiresAt ?? NaN);
    writer.u32(value.length);
    parts.push(writer.buffer.subarray(start, writer.offset), value);
    start = writer.offset;
  }
  if (start < writer.offset) parts.push(writer.buffer.subarray(start, writer.offset));
  return parts;
}

/** Reads the body of an operation of `type` from `reader`; throws on anything malformed (`what` names the payload). */
export function decodeSlotOperation(type: SlotOperation['type'], reader: ByteReader, what: string): SlotOperation {
  const fail = (problem: string): never => {
    throw new Error(`${what}: ${type} ${problem}`);
  };
  const count = (): number => reader.u32();
  const key = (): string => reader.text(reader.u16(), 'utf8');
  const natural = (name: string): number => {
    const value = reader.float64();
    return Number.isSafeInteger(value) && value >= 0 ? value : fail(`has a ${name} that is not a non-negative integer`);
  };
  const slots = (): number[] => {
    const length = reader.u16();
    if (length > SLOT_COUNT) fail(`lists ${length} slots (there are ${SLOT_COUNT})`);
    const list: number[] = [];
    for (let index = 0; index < length; index++) {
      const slot = reader.u16();
      list.push(isSlot(slot) ? slot : fail(`names slot ${slot}`));
    }
    return list;
  };
  if (type === 'fence' || type === 'unfence') return { type, slots: slots() };
  if (type === 'purge') {
    const keys: string[] = [];
    for (let left = count(); left > 0; left--) keys.push(key());
    return { type, keys };
  }
  const clearByte = reader.u8();
  if (clearByte > 1) fail(`has clear = ${clearByte}`);
  const versionFloor = natural('versionFloor');
  const importSlots = slots();
  const records: SnapshotRecord[] = [];
  for (let left = count(); left > 0; left--) {
    const recordKey = key();
    const version = natural('version');
    const expiresAt = reader.float64();
    if (!Number.isNaN(expiresAt) && !Number.isSafeInteger(expiresAt)) fail(`has an expiresAt that is not an integer`);
    // A copy: the payload holds other values, and the store keeps this one.
    const value = Buffer.from(reader.view(reader.u32()));
    records.push({ key: recordKey, value, version, expiresAt: Number.isNaN(expiresAt) ? null : expiresAt });
  }
  return { type, slots: importSlots, clear: clearByte === 1, versionFloor, records };
}
