import { badRequest } from './errors';

export const MAX_KEY_BYTES = 1024;
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
/** The largest `--max-value-bytes` a process accepts. */
export const MAX_VALUE_BYTES_LIMIT = 512 * 1024 * 1024;

/**
 * Validates a key, the one check every way in uses: non-empty, well-formed
 * UTF-16, at most 1024 bytes of UTF-8. A lone surrogate has no UTF-8 form:
 * codecs would write U+FFFD in its place while the store keeps the surrogate,
 * so replicas would disagree on the key. Throws BAD_REQUEST.
 */
export function validateKey(key: string): string {
  if (key.length === 0) throw badRequest('key must not be empty');
  if (!key.isWellFormed()) throw badRequest('key is not well-formed Unicode: it has a lone surrogate (half of a UTF-16 pair)');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) throw badRequest(`key is ${bytes} bytes; the limit is ${MAX_KEY_BYTES}`);
  return key;
}

/**
 * A valid key as one percent-encoded path segment. The keys `.` and `..`
 * are sent as `%2E` and `%2E%2E`, which no plain path normaliser takes for
 * dot-segments; a WHATWG URL parser (fetch, axios) still does, so the path
 * must be sent as built, never through `new URL`.
 */
export function encodeKey(key: string): string {
  if (key === '.') return '%2E';
  if (key === '..') return '%2E%2E';
  return encodeURIComponent(key);
}
