import { ByteReader } from '@kvstore/wire';
import type { LogEntry, Operation } from '../replication/entry';
import type { AppendRequest } from '../replication/messages';
import { ByteWriter, stringBytes } from './byte-writer';
import { decodeSlotOperation, encodeSlotOperation, isSlotOperation } from './slot-operation-codec';

/**
 * The `append` frame's payload, binary so values travel as raw bytes (no
 * base64, no JSON). Numbers are float64, exact for every safe integer.
 *
 *   epoch | prevSeq | prevEpoch | commitSeq | leaderId | leaderUrl | u32 count | entry*
 *   entry:  seq | epoch | u8 type | (put: key | expiresAt (NaN: none) | u32 value bytes | value) (delete: key) (expire: key | version)
 *           (fence, unfence, import, purge: their body, slot-operation-codec.ts)
 *   string: u16 bytes | UTF-8
 */

const TYPES: ReadonlyArray<Operation['type']> = ['put', 'delete', 'noop', 'expire', 'fence', 'unfence', 'import', 'purge'];

/** The entry's bytes in the head buffer (a resharding operation's body is parts of its own). */
function entryHeadBytes(entry: LogEntry): number {
  const { op } = entry;
  if (op.type === 'put') return 17 + stringBytes(op.key) + 12;
  if (op.type === 'delete') return 17 + stringBytes(op.key);
  if (op.type === 'expire') return 17 + stringBytes(op.key) + 8;
  return 17;
}

/** The message as parts: all heads in one buffer is simpler, but then values would be copied; each value is its own part. */
export function encodeAppend(request: AppendRequest): Buffer[] {
  let headBytes = 32 + stringBytes(request.leaderId) + stringBytes(request.leaderUrl) + 4;
  for (const entry of request.entries) headBytes += entryHeadBytes(entry);
  const head = new ByteWriter(Buffer.allocUnsafe(headBytes));
  const parts: Buffer[] = [];
  head.number(request.epoch);
  head.number(request.prevSeq);
  head.number(request.prevEpoch);
  head.number(request.commitSeq);
  head.string(request.leaderId);
  head.string(request.leaderUrl);
  head.u32(request.entries.length);
  let start = 0;
  for (const { seq, epoch, op } of request.entries) {
    head.number(seq);
    head.number(epoch);
    head.u8(TYPES.indexOf(op.type));
    if (op.type === 'noop') continue;
    if (isSlotOperation(op)) {
      parts.push(head.buffer.subarray(start, head.offset), ...encodeSlotOperation(op));
      start = head.offset;
      continue;
    }
    head.string(op.key);
    if (op.type === 'delete') continue;
    if (op.type === 'expire') {
      head.number(op.version);
      continue;
    }
    head.number(op.expiresAt ?? NaN);
    head.u32(op.value.length);
    parts.push(head.buffer.subarray(start, head.offset), op.value);
    start = head.offset;
  }
  parts.push(head.buffer.subarray(start, head.offset));
  return parts;
}

function integer(reader: ByteReader, name: string): number {
  const value = reader.float64();
  if (!Number.isSafeInteger(value)) throw new Error(`append frame: ${name} is not an integer`);
  return value;
}

function string(reader: ByteReader): string {
  return reader.text(reader.u16(), 'utf8');
}

function decodeOperation(reader: ByteReader, seq: number): Operation {
  const type = TYPES[reader.u8()];
  if (type === 'noop') return { type };
  if (type === undefined) throw new Error(`append frame: entry ${seq} has an unknown type`);
  if (type === 'fence' || type === 'unfence' || type === 'import' || type === 'purge') return decodeSlotOperation(type, reader, `append frame: entry ${seq}`);
  const key = string(reader);
  if (type === 'delete') return { type, key };
  if (type === 'expire') return { type, key, version: integer(reader, 'version') };
  const expiresAt = reader.float64();
  // A copy: the frame's buffer holds other entries, and the store keeps this value.
  const value = Buffer.from(reader.view(reader.u32()));
  return { type, key, value, expiresAt: Number.isNaN(expiresAt) ? null : expiresAt };
}

export function decodeAppend(payload: Buffer): AppendRequest {
  const reader = new ByteReader(payload, 'append frame');
  const epoch = integer(reader, 'epoch');
  const prevSeq = integer(reader, 'prevSeq');
  const prevEpoch = integer(reader, 'prevEpoch');
  const commitSeq = integer(reader, 'commitSeq');
  const leaderId = string(reader);
  const leaderUrl = string(reader);
  const entries: LogEntry[] = [];
  for (let count = reader.u32(); count > 0; count--) {
    const seq = integer(reader, 'seq');
    const entryEpoch = integer(reader, 'epoch');
    entries.push({ seq, epoch: entryEpoch, op: decodeOperation(reader, seq) });
  }
  if (reader.offset !== payload.length) throw new Error('append frame has trailing bytes');
  return { epoch, leaderId, leaderUrl, prevSeq, prevEpoch, commitSeq, entries };
}
