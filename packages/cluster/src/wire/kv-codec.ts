/**
 * The payload of a `kv` frame, kept for one release so gates and replicas
 * can be upgraded one at a time (kv-frame.ts is its successor): one public request as a gate forwards it to
 * a replica, and its answer. The value travels as raw bytes after a small
 * head, never re-encoded:
 *
 *   request:  u8 method | u16 path bytes | path | headers | body
 *   answer:   u16 status | headers | body
 *   headers:  u8 count | (u8 name bytes | name | u16 value bytes | value)*
 *
 * A request's routing version travels as one more header,
 * `x-kv-routing-version` (so a replica that predates it ignores it), and is
 * decoded into its own field.
 */

import { HEADER_ROUTING_VERSION, type KvMethod } from '@kvstore/protocol';
import { ByteReader } from '@kvstore/wire';
import type { Answer } from '../http/raw-http';

export interface KvWireRequest {
  method: KvMethod;
  /** Path and query, e.g. `/v1/kv/a%20b?ttl=5`. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
  /** The `/ring` version the gate routed the request with; undefined when unknown (a gate without a ring, or one that predates it). */
  routingVersion?: number;
}

const METHODS: readonly KvMethod[] = ['GET', 'PUT', 'DELETE'];

function headersBytes(headers: Record<string, string>): number {
  let bytes = 1;
  for (const name in headers) bytes += 3 + Buffer.byteLength(name, 'latin1') + Buffer.byteLength(headers[name]!, 'utf8');
  return bytes;
}

function writeHeaders(target: Buffer, offset: number, headers: Record<string, string>): number {
  const names = Object.keys(headers);
  if (names.length > 255) throw new Error('too many headers');
  target.writeUInt8(names.length, offset++);
  for (const name of names) {
    const nameBytes = target.write(name, offset + 1, 'latin1');
    target.writeUInt8(nameBytes, offset);
    offset += 1 + nameBytes;
    const valueBytes = target.write(headers[name]!, offset + 2, 'utf8');
    target.writeUInt16BE(valueBytes, offset);
    offset += 2 + valueBytes;
  }
  return offset;
}

function readHeaders(reader: ByteReader): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let count = reader.u8(); count > 0; count--) {
    const name = reader.text(reader.u8(), 'latin1');
    headers[name] = reader.text(reader.u16(), 'utf8');
  }
  return headers;
}

/** The head as one buffer and the body as another, so the value is not copied. */
export function encodeKvRequest(request: KvWireRequest): Buffer[] {
  const pathBytes = Buffer.byteLength(request.path, 'utf8');
  if (pathBytes > 0xffff) throw new Error('path is too long');
  const { routingVersion } = request;
  if (routingVersion !== undefined && !(Number.isSafeInteger(routingVersion) && routingVersion >= 0)) {
    throw new Error(`routing version ${routingVersion} is not an integer >= 0`);
  }
  const headers = routingVersion === undefined ? request.headers : { ...request.headers, [HEADER_ROUTING_VERSION]: String(routingVersion) };
  const head = Buffer.allocUnsafe(3 + pathBytes + headersBytes(headers));
  head.writeUInt8(METHODS.indexOf(request.method), 0);
  head.writeUInt16BE(pathBytes, 1);
  head.write(request.path, 3, 'utf8');
  writeHeaders(head, 3 + pathBytes, headers);
  return [head, request.body];
}

export function decodeKvRequest(payload: Buffer): KvWireRequest {
  const reader = new ByteReader(payload, 'kv frame');
  const method = METHODS[reader.u8()];
  if (!method) throw new Error('kv frame has an unknown method');
  const path = reader.text(reader.u16(), 'utf8');
  const headers = readHeaders(reader);
  const body = reader.rest();
  const version = headers[HEADER_ROUTING_VERSION];
  if (version === undefined) return { method, path, headers, body };
  const routingVersion = Number(version);
  if (!/^\d{1,16}$/.test(version) || !Number.isSafeInteger(routingVersion)) throw new Error('kv frame has a malformed routing version');
  const { [HEADER_ROUTING_VERSION]: _, ...others } = headers;
  return { method, path, headers: others, body, routingVersion };
}

export function encodeKvAnswer(answer: Answer): Buffer[] {
  const head = Buffer.allocUnsafe(2 + headersBytes(answer.headers));
  head.writeUInt16BE(answer.status, 0);
  writeHeaders(head, 2, answer.headers);
  return [head, answer.body];
}

export function decodeKvAnswer(payload: Buffer): Answer {
  const reader = new ByteReader(payload, 'kv answer');
  const status = reader.u16();
  return { status, headers: readHeaders(reader), body: reader.rest() };
}
