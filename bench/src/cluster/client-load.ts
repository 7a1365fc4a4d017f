import { performance } from 'node:perf_hooks';
import { Latencies, type LoadOptions, type LoadResult, type RequestShape } from './load';

/** Sends one request through a client library and resolves to its HTTP-like status (200, or the API error's); rejects when it got no answer. */
export type SendThrough = (request: RequestShape) => Promise<number>;

/**
 * A load driven through a client library instead of autocannon (the
 * self-routing kvclient speaks frames, not HTTP): `connections` loops, each
 * with one request in flight, closed-loop as autocannon's connections are.
 */
export async function runClientLoad(options: LoadOptions, send: SendThrough): Promise<LoadResult> {
  const latencies = new Latencies();
  const statusCodes: Record<string, number> = {};
  let requests = 0;
  let connectionErrors = 0;
  let non2xx = 0;
  let remaining = options.amount ?? Infinity;
  const started = performance.now();
  const deadline = options.durationS === undefined ? Infinity : started + options.durationS * 1000;
  const loop = async (): Promise<void> => {
    while (remaining > 0 && performance.now() < deadline && options.until?.aborted !== true) {
      remaining -= 1;
      const request = options.next();
      const sentAt = performance.now();
      let status: number;
      try {
        status = await send(request);
      } catch {
        connectionErrors += 1;
        options.onNoAnswer?.();
        continue;
      }
      const ms = performance.now() - sentAt;
      latencies.add(ms);
      requests += 1;
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      if (status < 200 || status > 299) non2xx += 1;
      options.onAnswer?.(request, status, ms, '');
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.connections, options.amount ?? Infinity) }, loop));
  const elapsedS = (performance.now() - started) / 1000;
  return {
    requests,
    elapsedS,
    reqPerSec: requests / elapsedS,
    latencyMs: latencies.summary(),
    errors: connectionErrors + non2xx,
    connectionErrors,
    timeouts: 0,
    non2xx,
    statusCodes,
  };
}
