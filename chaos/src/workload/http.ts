/**
 * One request of the workload to a gate, classified the way the history needs
 * it: answered (with status), refused before it was sent (safe to send to
 * another gate), or lost after it may have been sent (outcome unknown).
 */
export type Attempt =
  | { kind: 'answered'; status: number; body: string; etag: string | null; partition: string | null; replica: string | null }
  | { kind: 'refused'; error: string }
  | { kind: 'lost'; error: string };

const REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EADDRNOTAVAIL']);

function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const { code, name, cause } = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    if (name === 'TimeoutError' || name === 'AbortError') return 'TIMEOUT';
    current = cause;
  }
  return (error as Error)?.message ?? String(error);
}

export interface SendOptions {
  method: 'GET' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export async function send(options: SendOptions): Promise<Attempt> {
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: options.method,
      headers: options.headers,
      body: options.body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const code = errorCode(error);
    return REFUSED.has(code) ? { kind: 'refused', error: code } : { kind: 'lost', error: code };
  }
  try {
    const body = await response.text();
    return { kind: 'answered', status: response.status, body, etag: response.headers.get('etag'), partition: response.headers.get('x-kv-partition'), replica: response.headers.get('x-kv-replica') };
  } catch (error) {
    // The status line came, the body did not: for a write, the status alone
    // decides the outcome; for a read, the value is unknown.
    return { kind: 'lost', error: `${response.status} then ${errorCode(error)}` };
  }
}

/** The error code of a JSON error body, for the record. */
export function errorCodeOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}
