import { HEADER_ROUTING_VERSION, type Consistency } from './api';
import { badRequest, notFound, payloadTooLarge } from './errors';
import { validateKey } from './keys';
import { KV_PREFIX, queryParam, splitKvUrl } from './kv-url';

/**
 * Parsing of the public API's request parts, shared by kvserver and kvgate
 * so both refuse bad input the same way (400/413 with a message that says
 * what was wrong).
 */

const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

/**
 * The key from the path after `/v1/kv/`, still percent-encoded (`%2E` is a
 * dot like any other). decodeURIComponent throws URIError on a malformed
 * sequence and on an encoded surrogate (`%ED%A0%80`): both are a 400.
 */
export function decodeKey(encoded: string): string {
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw badRequest('key is not valid percent-encoded UTF-8');
  }
  return validateKey(key);
}

const TTL_RULE = `ttl must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`;

export function parseTtl(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,9}$/.test(raw)) throw badRequest(TTL_RULE);
  return checkTtl(Number(raw));
}

/** A ttl that arrived as a number (the gate's kv frame): the same bounds as parseTtl's. */
export function checkTtl(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TTL_SECONDS) throw badRequest(TTL_RULE);
  return seconds;
}

export function parseConsistency(raw: unknown): Consistency {
  if (raw === undefined || raw === 'strong') return 'strong';
  if (raw === 'eventual') return 'eventual';
  throw badRequest('consistency must be "strong" or "eventual"');
}

/** `If-Match: "<version>"` (quotes optional) or `*`. */
export function parseIfMatch(raw: string | undefined): number | '*' | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (value === '*') return '*';
  const match = /^(?:W\/)?"?([0-9]{1,15})"?$/.exec(value);
  if (!match) throw badRequest('If-Match must be "<version>" or *');
  return Number(match[1]);
}

/** Only `If-None-Match: *` (create only) is meaningful for a key-value store. */
export function parseIfNoneMatch(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  if (raw.trim() === '*') return true;
  throw badRequest('If-None-Match supports only *');
}

export type KvMethod = 'GET' | 'PUT' | 'DELETE';

/**
 * A `/v1/kv/<key>` request's meaning, parsed once where it enters the
 * cluster (a gate, or a replica's own port) and carried as fields from
 * there on (the internal protocol's kv frame). Fields a method does not use
 * have their neutral value.
 */
export interface KvRequest {
  method: KvMethod;
  key: string;
  /** PUT: seconds the value lives. */
  ttl: number | undefined;
  /** GET: which read; 'strong' for writes. */
  consistency: Consistency;
  /** PUT and DELETE: the version the key must have, or `*` for any. */
  ifMatch: number | '*' | undefined;
  /** PUT: create only. */
  ifNoneMatch: boolean;
}

/**
 * Parses a request for `/v1/kv/<key>` (`url` is its path and query).
 * ttl and consistency are checked on every method, preconditions only
 * where they mean something. Throws KvError: 404 for another method, 400
 * for bad input.
 */
export function parseKvRequest(method: string | undefined, url: string, ifMatch: string | undefined, ifNoneMatch: string | undefined): KvRequest {
  if (method !== 'GET' && method !== 'PUT' && method !== 'DELETE') {
    throw notFound(`no route for ${method} ${KV_PREFIX}/<key>; use GET, PUT or DELETE`);
  }
  const { encodedKey, query } = splitKvUrl(url);
  const key = decodeKey(encodedKey);
  const ttl = parseTtl(queryParam(query, 'ttl'));
  const consistency = parseConsistency(queryParam(query, 'consistency'));
  const write = method !== 'GET';
  return {
    method,
    key,
    ttl: method === 'PUT' ? ttl : undefined,
    consistency: write ? 'strong' : consistency,
    ifMatch: write ? parseIfMatch(ifMatch) : undefined,
    ifNoneMatch: method === 'PUT' ? parseIfNoneMatch(ifNoneMatch) : false,
  };
}

/** The `x-kv-routing-version` a request was routed by (a `/ring` version), as a header's text. */
export function parseRoutingVersion(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const version = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(version)) throw badRequest(`${HEADER_ROUTING_VERSION} must be a ring version (an integer)`);
  return version;
}

/** The seed API's `{"key": string, "value": base64}`; the size limit applies to the decoded value. */
export function parseSeedPut(body: Buffer, maxValueBytes: number): { key: string; value: Buffer } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('body must be JSON: {"key": string, "value": base64}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('body must be a JSON object');
  const { key, value } = parsed as { key?: unknown; value?: unknown };
  if (typeof key !== 'string') throw badRequest('"key" must be a string');
  if (typeof value !== 'string') throw badRequest('"value" must be a base64 string');
  const decoded = Buffer.from(value, 'base64');
  // Buffer.from skips what is not base64; only canonical text (padding included) round-trips.
  if (decoded.toString('base64') !== value) throw badRequest('"value" is not canonical base64');
  if (decoded.length > maxValueBytes) throw payloadTooLarge(`value is ${decoded.length} bytes; the limit is ${maxValueBytes}`);
  return { key: validateKey(key), value: decoded };
}

export function parseSeedGetKey(raw: unknown): string {
  if (typeof raw !== 'string') throw badRequest('query parameter "key" is required');
  return validateKey(raw);
}

/** The JSON body limit of the seed API: base64 of the largest value plus room for the key. */
export function seedBodyLimit(maxValueBytes: number): number {
  return Math.ceil(maxValueBytes / 3) * 4 + 8 * 1024;
}
