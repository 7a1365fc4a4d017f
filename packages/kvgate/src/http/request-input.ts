import { badRequest, payloadTooLarge, validateKey, type Consistency } from '@kvstore/topology';

/** Longest TTL accepted: ten years, far beyond any cache use, well inside a timer's range. */
const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

/** The key is the rest of the raw path after the prefix, percent-decoded as a whole (so `%2F` and `/` both mean `/`). */
export function keyFromPath(url: string, prefix: string): string {
  const path = url.split('?', 1)[0] ?? '';
  const raw = path.length > prefix.length + 1 ? path.slice(prefix.length + 1) : '';
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw badRequest('key is not valid percent-encoded UTF-8');
  }
  return validateKey(key);
}

/** A query parameter given at most once. */
function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`${name} must be given once`);
  return value;
}

export function parseTtl(query: Record<string, unknown>): number | undefined {
  const value = single(query, 'ttl');
  if (value === undefined) return undefined;
  const seconds = /^[1-9]\d{0,9}$/.test(value) ? Number(value) : NaN;
  if (!(seconds <= MAX_TTL_SECONDS)) throw badRequest(`ttl must be whole seconds from 1 to ${MAX_TTL_SECONDS}, got "${value}"`);
  return seconds;
}

export function parseConsistency(query: Record<string, unknown>): Consistency {
  const value = single(query, 'consistency') ?? 'strong';
  if (value !== 'strong' && value !== 'eventual') throw badRequest(`consistency must be strong or eventual, got "${value}"`);
  return value;
}

export function requireKeyParam(query: Record<string, unknown>): string {
  const key = single(query, 'key');
  if (key === undefined) throw badRequest('key is required');
  return validateKey(key);
}

/** Strict base64: what Buffer would silently accept (url alphabet, missing padding, spaces) is refused. */
export function decodeBase64(value: unknown, maxBytes: number): Buffer {
  if (typeof value !== 'string') throw badRequest('value must be a base64 string');
  const decoded = Buffer.from(value, 'base64');
  if (decoded.toString('base64') !== value) throw badRequest('value is not canonical base64');
  if (decoded.length > maxBytes) throw payloadTooLarge(`value is ${decoded.length} bytes; the limit is ${maxBytes}`);
  return decoded;
}
