import { ERROR_CODES, type ErrorCode } from '@kvstore/protocol';
import type { SnapshotRecord } from '../replication/kv-store';
import { checkSlots } from '../replication/proposed-slots';
import type { ImportRequest, ImportResponse } from '../migration/messages';

/**
 * The `importSlots` frame: JSON, values in base64. An import is a bulk
 * transfer a few times a second at most, so the clarity of JSON costs
 * nothing that matters; every field is checked, since a frame is input.
 */
export function encodeImport(request: ImportRequest): Buffer {
  const records = request.records.map(({ key, value, version, expiresAt }) => ({ key, value: value.toString('base64'), version, expiresAt }));
  return Buffer.from(JSON.stringify({ ...request, records }));
}

function integer(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new Error(`import frame: ${name} must be an integer ≥ 0`);
  return value as number;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`import frame: ${name} must be a non-empty string`);
  return value;
}

function record(value: unknown): SnapshotRecord {
  const fields = value as Record<string, unknown> | null;
  if (typeof fields !== 'object' || fields === null) throw new Error('import frame: a record must be an object');
  const { key, value: data, version, expiresAt } = fields;
  if (typeof data !== 'string') throw new Error('import frame: a record value must be base64');
  if (expiresAt !== null && !Number.isFinite(expiresAt)) throw new Error('import frame: expiresAt must be a number or null');
  return { key: text(key, 'key'), value: Buffer.from(data, 'base64'), version: integer(version, 'version'), expiresAt: expiresAt as number | null };
}

export function decodeImport(payload: Buffer): ImportRequest {
  const fields = JSON.parse(payload.toString('utf8')) as Record<string, unknown> | null;
  if (typeof fields !== 'object' || fields === null || !Array.isArray(fields.records)) throw new Error('import frame: not an import request');
  if (typeof fields.clear !== 'boolean') throw new Error('import frame: clear must be a boolean');
  return {
    migration: text(fields.migration, 'migration'),
    from: text(fields.from, 'from'),
    fromEpoch: integer(fields.fromEpoch, 'fromEpoch'),
    slots: checkSlots(fields.slots),
    clear: fields.clear,
    versionFloor: integer(fields.versionFloor, 'versionFloor'),
    records: fields.records.map(record),
  };
}

export function decodeImportResponse(payload: Buffer): ImportResponse {
  const fields = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  if (fields.ok === true) return { ok: true, seq: integer(fields.seq, 'seq') };
  const code = fields.code as ErrorCode;
  if (!(code in ERROR_CODES)) throw new Error('import answer: unknown error code');
  return { ok: false, code, message: String(fields.message) };
}
