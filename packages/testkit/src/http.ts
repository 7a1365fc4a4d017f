/** Thin helpers over global fetch for the public API, returning everything a test asserts on. */

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The parsed body when it is JSON. */
  json?: unknown;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  query?: Record<string, string | number>;
  /** Default 10000 ms. */
  timeoutMs?: number;
}

/** `<baseUrl>/v1/kv/<key>` with the key percent-encoded, plus the query. */
export function keyUrl(baseUrl: string, key: string, query: Record<string, string | number> = {}): string {
  const search = new URLSearchParams(Object.entries(query).map(([name, value]): [string, string] => [name, String(value)])).toString();
  return `${baseUrl}/v1/kv/${encodeURIComponent(key)}${search ? `?${search}` : ''}`;
}

export async function request(method: string, url: string, options: RequestOptions & { body?: string | Buffer } = {}): Promise<HttpResult> {
  const response = await fetch(url, {
    method,
    headers: options.headers,
    body: options.body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const body = Buffer.from(await response.arrayBuffer());
  const result: HttpResult = { status: response.status, headers: response.headers, body };
  if (response.headers.get('content-type')?.includes('application/json')) {
    try {
      result.json = JSON.parse(body.toString('utf8'));
    } catch {
      // Left undefined: the test sees the raw body.
    }
  }
  return result;
}

export function put(baseUrl: string, key: string, value: string | Buffer, options: RequestOptions = {}): Promise<HttpResult> {
  return request('PUT', keyUrl(baseUrl, key, options.query), { ...options, body: value });
}

export function get(
  baseUrl: string,
  key: string,
  options: RequestOptions & { consistency?: 'strong' | 'eventual' } = {},
): Promise<HttpResult> {
  const query = { ...options.query, ...(options.consistency ? { consistency: options.consistency } : {}) };
  return request('GET', keyUrl(baseUrl, key, query), options);
}

export function del(baseUrl: string, key: string, options: RequestOptions = {}): Promise<HttpResult> {
  return request('DELETE', keyUrl(baseUrl, key, options.query), options);
}
