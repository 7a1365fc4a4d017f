import { KvError, errorFromAnswer, kvPath, timeout, unavailable, type Consistency } from '@kvstore/protocol';
import type { RouteSource } from '../routing/routing-state';
import type { Endpoint } from '../routing/routing-table';
import { TransportError, type DataTransport, type TransportResponse } from './transport';
import { ATTEMPT_GRACE_MS, MAX_ATTEMPTS, backOff, outOfTime, trustedHint, waitForChange } from './retry';

export interface ForwardRequest {
  method: 'GET' | 'PUT' | 'DELETE';
  key: string;
  /** Validated query string without `?` (`ttl=5&consistency=eventual`), or empty. */
  query: string;
  /** Headers the replica needs (If-Match, If-None-Match, Content-Type). */
  headers: Record<string, string>;
  body?: Buffer;
  consistency: Consistency;
}

/** Who was involved, for X-Kv-Partition / X-Kv-Replica, and what they answered. */
export type ForwardResult =
  | { ok: true; partition: string; replica: string; response: TransportResponse }
  | { ok: false; partition?: string; replica?: string; error: KvError };

export interface ForwarderOptions {
  source: RouteSource;
  transport: DataTransport;
  /** Retries stop once this much time has passed since the request arrived. */
  writeTimeoutMs: number;
  now?: () => number;
}


interface Failure {
  partition?: string;
  replica?: string;
  error: KvError;
}

/**
 * Sends one public request to the replica that should serve it, retrying
 * what is safe to retry until the deadline: a NOT_LEADER (at the hinted
 * leader, or once the watcher knows a new one), a WRONG_PARTITION (once the
 * ring changes), a refused connection, a 503, a partition without a leader.
 * A write that may have reached a replica is never sent twice: it is 504.
 */
export class Forwarder {
  private readonly now: () => number;

  constructor(private readonly options: ForwarderOptions) {
    this.now = options.now ?? Date.now;
  }

  async forward(request: ForwardRequest): Promise<ForwardResult> {
    const deadline = this.now() + this.options.writeTimeoutMs;
    const isWrite = request.method !== 'GET';
    const eventual = !isWrite && request.consistency === 'eventual';
    // Built only when an attempt fails: an Error's stack trace is too dear to make for every request.
    let failure: Failure | undefined;
    let hint: Endpoint | undefined;
    let failuresInARow = 0;

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0 && this.now() >= deadline) break;
      const table = this.options.source.table();
      const route = table.route(request.key);
      if (!route) {
        failure = { error: unavailable(table.ringVersion === undefined ? 'no ring is loaded yet' : 'the ring has no partitions') };
        await waitForChange(this.options.source, deadline, this.now());
        continue;
      }
      const target = hint ?? (eventual ? table.nextReplica(route) : route.leader);
      hint = undefined;
      if (!target) {
        const what = eventual ? 'no live replica' : 'no leader';
        failure = { partition: route.partition, error: unavailable(`partition ${route.partition} has ${what}`) };
        await waitForChange(this.options.source, deadline, this.now());
        continue;
      }

      let response: TransportResponse;
      try {
        response = await this.send(request, target);
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        if (isWrite && error.failure === 'unknown-outcome') {
          const message = `outcome unknown: replica ${target.id} of partition ${route.partition} did not answer`;
          return { ok: false, partition: route.partition, replica: target.id, error: timeout(message) };
        }
        failure = { partition: route.partition, replica: target.id, error: unavailable(error.message, error) };
        failuresInARow++;
        // An eventual read tries the other replicas at once before backing off.
        if (!eventual || failuresInARow >= route.replicas.length) await backOff(this.options.source, deadline, this.now(), failuresInARow);
        continue;
      }

      const replica = response.headers['x-kv-replica'] ?? target.id;
      if (response.status >= 200 && response.status < 300) {
        return { ok: true, partition: route.partition, replica, response };
      }
      const error = errorFromAnswer(response.status, response.body, `replica ${target.id}`);
      failure = { partition: route.partition, replica, error };
      if (error.code === 'NOT_LEADER') {
        hint = trustedHint(this.options.source, route.partition, error, target);
        if (!hint) await waitForChange(this.options.source, deadline, this.now());
      } else if (error.code === 'WRONG_PARTITION') {
        await waitForChange(this.options.source, deadline, this.now());
      } else if (error.code === 'UNAVAILABLE' || (!isWrite && error.code === 'TIMEOUT')) {
        failuresInARow++;
        await backOff(this.options.source, deadline, this.now(), failuresInARow);
      } else {
        return { ok: false, ...failure };
      }
    }
    // There is at least one attempt, and every one that does not return records its failure.
    const last = failure!;
    return { ok: false, partition: last.partition, replica: last.replica, error: outOfTime(last.error, last.partition ?? 'unknown') };
  }

  private send(request: ForwardRequest, target: Endpoint): Promise<TransportResponse> {
    return this.options.transport.request({
      url: target.url,
      method: request.method,
      path: kvPath(request.key, request.query),
      headers: request.headers,
      body: request.body,
      timeoutMs: this.options.writeTimeoutMs + ATTEMPT_GRACE_MS,
    });
  }
}
