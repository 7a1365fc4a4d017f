import { encodeKey } from './keys';

/** The url of the public data path, `/v1/kv[/<key>][?<query>]`: how a client builds it and a server takes it apart. */

export const KV_PREFIX = '/v1/kv';

/** Whether a request url (path and query) is for `/v1/kv` or a key under it. */
export function isKvUrl(url: string): boolean {
  if (!url.startsWith(KV_PREFIX)) return false;
  const next = url.charCodeAt(KV_PREFIX.length);
  return Number.isNaN(next) || next === 0x2f /* / */ || next === 0x3f /* ? */;
}

export interface KvUrl {
  /** The percent-encoded key ('' for `/v1/kv` itself). */
  encodedKey: string;
  /** Undefined without a query string (most requests: no parser is made for them). */
  query: URLSearchParams | undefined;
}

export function splitKvUrl(url: string): KvUrl {
  const mark = url.indexOf('?');
  if (mark < 0) return { encodedKey: url.slice(KV_PREFIX.length + 1), query: undefined };
  return { encodedKey: url.slice(KV_PREFIX.length + 1, mark), query: new URLSearchParams(url.slice(mark + 1)) };
}

/** The path of a valid key, the inverse of splitKvUrl; `query` without its `?`. */
export function kvPath(key: string, query = ''): string {
  return `${KV_PREFIX}/${encodeKey(key)}${query ? `?${query}` : ''}`;
}

/** One query parameter as the request parsers take it: absent, one string, or several (which they refuse). */
export function queryParam(query: URLSearchParams | undefined, name: string): string | string[] | undefined {
  if (query === undefined) return undefined;
  const values = query.getAll(name);
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
}
