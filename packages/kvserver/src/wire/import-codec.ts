import { ERROR_CODES, type ErrorCode } from '@kvstore/protocol';
import { ByteReader } from '@kvstore/wire';
import type { ImportRequest, ImportResponse } from '../migration/messages';
import { decodeSlotOperation, encodeSlotOperation } from './slot-operation-codec';

/**
 * The `importSlots` frame: who sends it (JSON, small), then the import
 * operation in the log's own binary form (values as raw bytes, checked as
 * strictly as an append frame's):
 *
 *   u32 head bytes | head {migration, from, fromEpoch} | import body
 */
export function encodeImport(request: ImportRequest): Buffer[] {
  const head = Buffer.from(JSON.stringify({ migration: request.migration, from: request.from, fromEpoch: request.fromEpoch }));
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(head.length);
  const { slots, clear, versionFloor, records } = request;
  return [length, head, ...encodeSlotOperation({ type: 'import', slots, clear, versionFloor, records })];
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`import frame: ${name} must be a non-empty string`);
  return value;
}

export function decodeImport(payload: Buffer): ImportRequest {
  const reader = new ByteReader(payload, 'import frame');
  const head = JSON.parse(reader.text(reader.u32(), 'utf8')) as Record<string, unknown> | null;
  if (typeof head !== 'object' || head === null) throw new Error('import frame: the head is not an object');
  const op = decodeSlotOperation('import', reader, 'import frame');
  if (reader.offset !== payload.length) throw new Error('import frame has trailing bytes');
  if (op.type !== 'import' || op.slots.length === 0) throw new Error('import frame: no slots');
  if (!Number.isSafeInteger(head.fromEpoch) || (head.fromEpoch as number) < 0) throw new Error('import frame: fromEpoch must be an integer ≥ 0');
  return {
    migration: text(head.migration, 'migration'),
    from: text(head.from, 'from'),
    fromEpoch: head.fromEpoch as number,
    slots: op.slots,
    clear: op.clear,
    versionFloor: op.versionFloor,
    records: op.records,
  };
}

export function decodeImportResponse(payload: Buffer): ImportResponse {
  const fields = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  if (fields.ok === true && Number.isSafeInteger(fields.seq)) return { ok: true, seq: fields.seq as number };
  const code = fields.code as ErrorCode;
  if (fields.ok !== false || !(code in ERROR_CODES)) throw new Error('import answer: malformed');
  return { ok: false, code, message: String(fields.message) };
}
