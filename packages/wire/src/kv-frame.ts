/**
 * The payload of a `typedKv` frame (docs/internal-protocol.md, "The typed
 * kv frame"): a public request as the gate parsed it, and the replica's
 * answer, as fields. Nothing on the way is parsed twice: no url, no
 * headers, no JSON error body. The value travels as raw bytes after the
 * head, never copied:
 *
 *   request: u8 method | u8 flags | u16 key bytes | key | u8 id bytes | request id
 *            | [u32 ttl] | [f64 routing version] | [f64 if-match version] | body
 *   answer:  u8 code bytes | code | u8 flags | u8 replica bytes | replica
 *            | [f64 version] | [f64 routing version] | [u16 bytes | leader] | [u16 bytes | message] | body
 *
 * Decoding is a trust boundary: every field is checked as a client's input
 * would be, and a payload that breaks a rule throws KvFrameError (the
 * request is answered `failed`, nothing done).
 */

import { isUtf8 } from 'node:buffer';
import {
  ERROR_CODES,
  JSON_CONTENT_TYPE,
  KvError,
  OCTET_STREAM,
  checkTtl,
  isWellFormedRequestId,
  validateKey,
  type ErrorCode,
  type KvMethod,
  type KvRequest,
} from '@kvstore/protocol';
import { ByteReader } from './byte-reader';

/** A kv frame that breaks the layout's rules: forged, or from a broken peer. */
export class KvFrameError extends Error {
  override name = 'KvFrameError';
}

/** A request as a gate forwards it: its meaning, its id, the ring version it was routed by, its value. */
export interface KvFrameRequest extends KvRequest {
  requestId: string;
  routingVersion: number | undefined;
  /** PUT's value; empty for the others. */
  body: Buffer;
}

export type KvContentType = typeof JSON_CONTENT_TYPE | typeof OCTET_STREAM;

/** The replica's answer: a success (its status is 200) or a refusal with its error code. */
export type KvFrameAnswer =
  | { ok: true; replica: string | undefined; version: number | undefined; contentType: KvContentType; body: Buffer }
  | { ok: false; replica: string | undefined; error: KvError; routingVersion: number | undefined };

/**
 * A request's parsed fields with its id, routing version and value, built
 * field by field: on the data path a spread copy (`{ ...fields, requestId }`)
 * cost several microseconds a request (profiled), more than the codec.
 */
export function kvFrameRequest(fields: KvRequest, requestId: string, routingVersion: number | undefined, body: Buffer): KvFrameRequest {
  return {
    method: fields.method,
    key: fields.key,
    ttl: fields.ttl,
    consistency: fields.consistency,
    ifMatch: fields.ifMatch,
    ifNoneMatch: fields.ifNoneMatch,
    requestId,
    routingVersion,
    body,
  };
}

const METHODS: readonly KvMethod[] = ['GET', 'PUT', 'DELETE'];

const RequestFlag = { Eventual: 1, Ttl: 2, RoutingVersion: 4, IfMatchVersion: 8, IfMatchAny: 16, IfNoneMatch: 32 } as const;
const REQUEST_FLAGS = 63;

const AnswerFlag = { Version: 1, RoutingVersion: 2, Leader: 4, Octets: 8 } as const;

function checkUint(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new KvFrameError(`kv frame has a malformed ${what} (${value})`);
  return value;
}

/** An assertion: the gate encodes only what it parsed, so a bad field here is a bug. */
function assertUint(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${what} ${value} is not an integer >= 0`);
}

/** The head as one buffer and the value as another, so the value is not copied. */
export function encodeKvFrameRequest(request: KvFrameRequest): Buffer[] {
  const keyBytes = Buffer.byteLength(request.key, 'utf8');
  const idBytes = request.requestId.length;
  if (keyBytes > 0xffff || idBytes > 0xff) throw new Error('key or request id too long for a kv frame');
  let flags = 0;
  let bytes = 5 + keyBytes + idBytes;
  if (request.consistency === 'eventual') flags |= RequestFlag.Eventual;
  if (request.ttl !== undefined) {
    flags |= RequestFlag.Ttl;
    bytes += 4;
  }
  if (request.routingVersion !== undefined) {
    assertUint(request.routingVersion, 'routing version');
    flags |= RequestFlag.RoutingVersion;
    bytes += 8;
  }
  if (request.ifMatch === '*') flags |= RequestFlag.IfMatchAny;
  else if (request.ifMatch !== undefined) {
    assertUint(request.ifMatch, 'if-match version');
    flags |= RequestFlag.IfMatchVersion;
    bytes += 8;
  }
  if (request.ifNoneMatch) flags |= RequestFlag.IfNoneMatch;

  const head = Buffer.allocUnsafe(bytes);
  head.writeUInt8(METHODS.indexOf(request.method), 0);
  head.writeUInt8(flags, 1);
  head.writeUInt16BE(keyBytes, 2);
  let offset = 4 + head.write(request.key, 4, 'utf8');
  head.writeUInt8(idBytes, offset);
  offset += 1 + head.write(request.requestId, offset + 1, 'latin1');
  if (request.ttl !== undefined) offset = head.writeUInt32BE(request.ttl, offset);
  if (request.routingVersion !== undefined) offset = head.writeDoubleBE(request.routingVersion, offset);
  if (typeof request.ifMatch === 'number') head.writeDoubleBE(request.ifMatch, offset);
  return [head, request.body];
}

export function decodeKvFrameRequest(payload: Buffer): KvFrameRequest {
  const reader = new ByteReader(payload, 'kv frame');
  try {
    const method = METHODS[reader.u8()];
    if (!method) throw new KvFrameError('kv frame has an unknown method');
    const flags = reader.u8();
    checkFlags(method, flags);
    const keyBytes = reader.view(reader.u16());
    if (!isUtf8(keyBytes)) throw new KvFrameError('kv frame has a key that is not UTF-8');
    const key = validateKey(keyBytes.toString('utf8'));
    const requestId = reader.text(reader.u8(), 'latin1');
    if (!isWellFormedRequestId(requestId)) throw new KvFrameError('kv frame has a malformed request id');
    const ttl = flags & RequestFlag.Ttl ? checkTtl(reader.u32()) : undefined;
    const routingVersion = flags & RequestFlag.RoutingVersion ? checkUint(reader.float64(), 'routing version') : undefined;
    const ifMatch = flags & RequestFlag.IfMatchAny ? '*' : flags & RequestFlag.IfMatchVersion ? checkUint(reader.float64(), 'if-match version') : undefined;
    const body = reader.rest();
    if (method !== 'PUT' && body.length > 0) throw new KvFrameError(`kv frame has a value for a ${method}`);
    const consistency = flags & RequestFlag.Eventual ? 'eventual' : 'strong';
    return { method, key, ttl, consistency, ifMatch, ifNoneMatch: (flags & RequestFlag.IfNoneMatch) !== 0, requestId, routingVersion, body };
  } catch (error) {
    // A field a client's request could not have held (a key too long, a ttl out of range) is the frame's fault, not a request to refuse.
    if (error instanceof KvFrameError) throw error;
    throw new KvFrameError((error as Error).message);
  }
}

/** Each method may carry only the fields it uses, and if-match is a version or `*`, not both. */
function checkFlags(method: KvMethod, flags: number): void {
  if (flags & ~REQUEST_FLAGS) throw new KvFrameError(`kv frame has unknown flags ${flags}`);
  const allowed =
    method === 'GET'
      ? RequestFlag.Eventual | RequestFlag.RoutingVersion
      : method === 'PUT'
        ? RequestFlag.Ttl | RequestFlag.RoutingVersion | RequestFlag.IfMatchVersion | RequestFlag.IfMatchAny | RequestFlag.IfNoneMatch
        : RequestFlag.RoutingVersion | RequestFlag.IfMatchVersion | RequestFlag.IfMatchAny;
  if (flags & ~allowed) throw new KvFrameError(`kv frame has flags ${flags} that a ${method} does not take`);
  if (flags & RequestFlag.IfMatchVersion && flags & RequestFlag.IfMatchAny) throw new KvFrameError('kv frame has two if-match values');
}

export function encodeKvFrameAnswer(answer: KvFrameAnswer): Buffer[] {
  const code = answer.ok ? '' : answer.error.code;
  const replica = answer.replica ?? '';
  const replicaBytes = Buffer.byteLength(replica, 'utf8');
  if (replicaBytes > 0xff) throw new Error('replica id too long for a kv frame');
  let flags = 0;
  let bytes = 3 + code.length + replicaBytes;
  let leader: string | undefined;
  let message = '';
  if (answer.ok) {
    if (answer.version !== undefined) {
      assertUint(answer.version, 'version');
      flags |= AnswerFlag.Version;
      bytes += 8;
    }
    if (answer.contentType === OCTET_STREAM) flags |= AnswerFlag.Octets;
  } else {
    if (answer.routingVersion !== undefined) {
      assertUint(answer.routingVersion, 'routing version');
      flags |= AnswerFlag.RoutingVersion;
      bytes += 8;
    }
    leader = answer.error.leader;
    if (leader !== undefined) {
      flags |= AnswerFlag.Leader;
      bytes += 2 + Buffer.byteLength(leader, 'utf8');
    }
    message = answer.error.message;
    bytes += 2 + Buffer.byteLength(message, 'utf8');
  }
  const head = Buffer.allocUnsafe(bytes);
  head.writeUInt8(code.length, 0);
  let offset = 1 + head.write(code, 1, 'latin1');
  offset = head.writeUInt8(flags, offset);
  head.writeUInt8(replicaBytes, offset);
  offset += 1 + head.write(replica, offset + 1, 'utf8');
  if (answer.ok) {
    if (answer.version !== undefined) head.writeDoubleBE(answer.version, offset);
    return [head, answer.body];
  }
  if (answer.routingVersion !== undefined) offset = head.writeDoubleBE(answer.routingVersion, offset);
  if (leader !== undefined) offset = writeText(head, offset, leader);
  writeText(head, offset, message);
  return [head];
}

function writeText(target: Buffer, offset: number, text: string): number {
  const bytes = target.write(text, offset + 2, 'utf8');
  target.writeUInt16BE(bytes, offset);
  return offset + 2 + bytes;
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

export function decodeKvFrameAnswer(payload: Buffer): KvFrameAnswer {
  const reader = new ByteReader(payload, 'kv answer');
  try {
    const code = reader.text(reader.u8(), 'latin1');
    const flags = reader.u8();
    const replicaBytes = reader.u8();
    const replica = replicaBytes === 0 ? undefined : reader.text(replicaBytes, 'utf8');
    if (code === '') {
      if (flags & ~(AnswerFlag.Version | AnswerFlag.Octets)) throw new KvFrameError(`kv answer has flags ${flags} that a success does not take`);
      const version = flags & AnswerFlag.Version ? checkUint(reader.float64(), 'version') : undefined;
      return { ok: true, replica, version, contentType: flags & AnswerFlag.Octets ? OCTET_STREAM : JSON_CONTENT_TYPE, body: reader.rest() };
    }
    if (!isErrorCode(code)) throw new KvFrameError(`kv answer has an unknown error code ${JSON.stringify(code)}`);
    if (flags & ~(AnswerFlag.RoutingVersion | AnswerFlag.Leader)) throw new KvFrameError(`kv answer has flags ${flags} that a refusal does not take`);
    const routingVersion = flags & AnswerFlag.RoutingVersion ? checkUint(reader.float64(), 'routing version') : undefined;
    const leader = flags & AnswerFlag.Leader ? reader.text(reader.u16(), 'utf8') : undefined;
    const message = reader.text(reader.u16(), 'utf8');
    if (reader.offset !== payload.length) throw new KvFrameError('kv answer has trailing bytes after a refusal');
    return { ok: false, replica, error: new KvError(code, message, { leader }), routingVersion };
  } catch (error) {
    if (error instanceof KvFrameError) throw error;
    throw new KvFrameError((error as Error).message);
  }
}
