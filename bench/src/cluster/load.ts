import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { percentile } from '../common';
import { runClientLoad, type SendThrough } from './client-load';

/** One request of a load; `next()` makes a new one for every request sent. */
export interface RequestShape {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  body?: Buffer | string;
}

/** What a load needs besides the url to be let in: a bearer token (a gate with --auth on), the CA of an https:// url. */
export interface Access {
  token?: string;
  caFile?: string;
}

export interface LoadOptions {
  /** Base url: http://127.0.0.1:<port> or https://. */
  url: string;
  access?: Access;
  connections: number;
  /** Run this long... */
  durationS?: number;
  /** ...or until this many responses (then every request is next()'s, exactly once)... */
  amount?: number;
  /** ...or until this is aborted (within a second). */
  until?: AbortSignal;
  next: () => RequestShape;
  /** Sees every answer as it comes: the request it answers, its status, its time in ms, and its body. */
  onAnswer?: (request: RequestShape, status: number, ms: number, body: string) => void;
  /** Sees every request that got no answer (a connection error or a timeout). */
  onNoAnswer?: () => void;
  /** Send each request through this client library instead of autocannon's HTTP (client-load.ts). */
  send?: SendThrough;
}

/** How long an open-ended load (`until`) may run at most: autocannon needs a duration. */
const UNTIL_MAX_S = 3600;

export interface LoadResult {
  /** Responses of any status. */
  requests: number;
  /** How long it ran, in seconds. */
  elapsedS: number;
  reqPerSec: number;
  /** Over every response, in ms (autocannon's own histogram rounds to whole ms). */
  latencyMs: { p50: number; p99: number; p99_9: number; max: number };
  /** Connection errors (timeouts included) plus non-2xx answers. */
  errors: number;
  connectionErrors: number;
  timeouts: number;
  non2xx: number;
  /** Answers by status code, e.g. { "200": 51234, "503": 2 }. */
  statusCodes: Record<string, number>;
}

/** Response times, appended as they come (a typed array: millions of them for a big prefill). */
export class Latencies {
  private values = new Float64Array(1 << 16);
  private count = 0;

  add(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.count).sort();
  }

  /** p50, p99, p99.9 and max (NaN when there are none). */
  summary(): LoadResult['latencyMs'] {
    const sorted = this.sorted();
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p99_9: percentile(sorted, 0.999), max: sorted[sorted.length - 1] ?? NaN };
  }
}

/** What autocannon keeps per connection between building a request and reading its answer. */
interface Sent {
  request?: RequestShape;
  sentAt?: number;
}

function duration(options: LoadOptions): { duration: number } | { amount: number } {
  if (options.amount !== undefined) return { amount: options.amount };
  return { duration: options.until ? UNTIL_MAX_S : options.durationS! };
}

/** Runs autocannon in this process (or the client library of `send`), with a request made by `next()` for each one sent. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.send) return runClientLoad(options, options.send);
  const latencies = new Latencies();
  const { onAnswer, access } = options;
  const headers: Record<string, string> = access?.token === undefined ? {} : { authorization: `Bearer ${access.token}` };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        // autocannon itself never verifies the server's certificate (it sets rejectUnauthorized: false); the handshake's cost is paid all the same, once per connection.
        ...(access?.caFile !== undefined && { tlsOptions: { ca: fs.readFileSync(access.caFile) } }),
        connections: options.amount === undefined ? options.connections : Math.min(options.connections, options.amount),
        // autocannon refuses an undefined duration: run by amount or by time.
        ...duration(options),
        requests: [
          {
            // Fresh headers every time: autocannon keeps the ones it was handed (with
            // a PUT's Content-Length) for the next request it builds, a GET included.
            // The context is this connection's, fresh for each request it sends.
            setupRequest: (request, context: Sent) => {
              const shape = options.next();
              if (onAnswer) Object.assign(context, { request: shape, sentAt: performance.now() });
              return { ...request, headers: { ...headers }, ...shape };
            },
            ...(onAnswer && { onResponse: (status: number, body: string, context: Sent) => onAnswer(context.request!, status, performance.now() - context.sentAt!, body) }),
          },
        ],
      },
      (error: unknown, result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        options.until?.removeEventListener('abort', stop);
        const statusCodes: Record<string, number> = {};
        for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count ?? 0;
        resolve({
          requests: result.requests.total,
          elapsedS: result.duration,
          reqPerSec: result.requests.total / result.duration,
          latencyMs: latencies.summary(),
          errors: result.errors + result.non2xx,
          connectionErrors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          statusCodes,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.add(responseTime));
    if (options.onNoAnswer) instance.on('reqError', options.onNoAnswer);
    const stop = (): void => instance.stop();
    if (options.until?.aborted) stop();
    else options.until?.addEventListener('abort', stop);
  });
}

/** Writes each of `keys` exactly once, as fast as `connections` concurrent requests go. */
export async function prefill(
  options: { url: string; access?: Access; connections: number; keys: readonly number[] },
  put: (n: number) => RequestShape,
): Promise<LoadResult> {
  let next = 0;
  const result = await runLoad({ ...options, amount: options.keys.length, next: () => put(options.keys[next++]!) });
  // Every key must be there for the GET rows that follow: any failed PUT fails the prefill.
  if (result.errors > 0) {
    const statuses = JSON.stringify(result.statusCodes);
    throw new Error(`prefill of ${options.keys.length} keys at ${options.url}: ${result.connectionErrors} connection errors (${result.timeouts} timeouts), statuses ${statuses}`);
  }
  return result;
}
