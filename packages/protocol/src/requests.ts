import type { Consistency } from './api';
import { badRequest, payloadTooLarge } from './errors';
import { validateKey } from './keys';

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

export function parseTtl(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,9}$/.test(raw) || Number(raw) > MAX_TTL_SECONDS) {
    throw badRequest(`ttl must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`);
  }
  return Number(raw);
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
