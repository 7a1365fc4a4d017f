import type { KvError } from '@kvstore/protocol';

/** RFC 6750: a 401 names the scheme it wants. */
export function challengeHeaders(error: unknown): Record<string, string> {
  return (error as KvError | undefined)?.code === 'UNAUTHENTICATED' ? { 'www-authenticate': 'Bearer realm="kvstore"' } : {};
}
