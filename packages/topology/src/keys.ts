import { badRequest } from './errors';

export const MAX_KEY_BYTES = 1024;
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

/** Validates a decoded key: non-empty UTF-8 of at most 1024 bytes. Throws BAD_REQUEST. */
export function validateKey(key: string): string {
  if (key.length === 0) throw badRequest('key must not be empty');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) throw badRequest(`key is ${bytes} bytes; the limit is ${MAX_KEY_BYTES}`);
  return key;
}
