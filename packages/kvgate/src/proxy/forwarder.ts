import { KvError, timeout, unavailable } from '@kvstore/protocol';
import { type KvFrameAnswer, type KvFrameRequest } from '@kvstore/wire';
import type { RouteSource } from '../routing/routing-state';
import type { Endpoint } from '../routing/routing-table';
import { TransportError, type DataTransport, type TransportResponse } from './transport';
import { ATTEMPT_GRACE_MS, CUTOVER_WAIT_MS, MAX_ATTEMPTS, backOff, outOfTime, trustedHint, waitForChange, waitForNewRing } from './retry';

/** A parsed public request, its id and its value: what the kv frame carries but the ring version, which each attempt adds. */
export type ForwardRequest = Omit<KvFrameRequest, 'routingVersion'>;

/** Who was involved, for X-Kv-Partition / X-Kv-Replica, and what they answered. */
export type ForwardResult =
  | { ok: true; partition: string; replica: string; response: Extract<KvFrameAnswer, { ok: true }> }
  | { ok: false; partition?: string; replica?: string; error: KvError };

export interface ForwarderOptions {
  source: RouteSource;
  transport: DataTransport;
  /** Retries stop once this much time has passed since the request arrived. */
  writeTimeoutMs: number;
  /** How far past the write timeout a request waits for a slot's cut-over (default CUTOVER_WAIT_MS). */
  cutoverWaitMs?: number;
  now?: () => number;
  /** Called for every attempt that failed in a way worth another (or a wait for a change), with why. */
  onRetry?: (reason: RetryReason) => void;
}

/**
 * Why a request is tried again: a NOT_LEADER answer; a WRONG_PARTITION from
 * a replica behind our ring, or for a slot being cut over (`migration`: the
 * next ring is waited for); no ring loaded yet; a partition without a
 * leader; a replica that could not be reached, or that answered 503.
 */
export type RetryReason = 'not_leader' | 'wrong_partition' | 'migration' | 'no_ring' | 'no_leader' | 'unreachable' | 'unavailable';


interface Failure {
  partition?: string;
  replica?: string;
  error: KvError;
}

/**
 * Sends one public request to the replica that should serve it, with the
 * ring version it was routed by, retrying what is safe to retry until the
 * deadline: a NOT_LEADER (at the hinted leader, or once the watcher knows a
 * new one), a WRONG_PARTITION (see onWrongPartition), a refused connection,
 * a 503, a partition without a leader. A write that may have reached a
 * replica is never sent twice: it is 504.
 */
export class Forwarder {
  private readonly now: () => number;
  private readonly retried: (reason: RetryReason) => void;

  constructor(private readonly options: ForwarderOptions) {
    this.now = options.now ?? Date.now;
    this.retried = options.onRetry ?? (() => {});
  }

  async forward(request: ForwardRequest): Promise<ForwardResult> {
    const arrived = this.now();
    let deadline = arrived + this.options.writeTimeoutMs;
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
        this.retried('no_ring');
        await waitForChange(this.options.source, deadline, this.now());
        continue;
      }
      const target = hint ?? (eventual ? table.nextReplica(route) : route.leader);
      hint = undefined;
      if (!target) {
        const what = eventual ? 'no live replica' : 'no leader';
        failure = { partition: route.partition, error: unavailable(`partition ${route.partition} has ${what}`) };
        this.retried('no_leader');
        await waitForChange(this.options.source, deadline, this.now());
        continue;
      }

      let response: TransportResponse;
      try {
        response = await this.send(request, target, table.ringVersion);
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        if (isWrite && error.failure === 'unknown-outcome') {
          const message = `outcome unknown: replica ${target.id} of partition ${route.partition} did not answer`;
          return { ok: false, partition: route.partition, replica: target.id, error: timeout(message) };
        }
        failure = { partition: route.partition, replica: target.id, error: unavailable(error.message, error) };
        this.retried('unreachable');
        failuresInARow++;
        // An eventual read tries the other replicas at once before backing off.
        if (!eventual || failuresInARow >= route.replicas.length) await backOff(this.options.source, deadline, this.now(), failuresInARow);
        continue;
      }

      const replica = response.replica ?? target.id;
      if (response.ok) return { ok: true, partition: route.partition, replica, response };
      const { error } = response;
      failure = { partition: route.partition, replica, error };
      if (error.code === 'NOT_LEADER') {
        this.retried('not_leader');
        hint = trustedHint(this.options.source, route.partition, error, target);
        // A change that came while the request was out has happened already: route again at once, or the wait would miss it.
        if (!hint && this.options.source.table() === table) await waitForChange(this.options.source, deadline, this.now());
      } else if (error.code === 'WRONG_PARTITION') {
        const next = this.afterWrongPartition(response, table.ringVersion);
        this.retried(next === 'wait-for-ring' ? 'migration' : 'wrong_partition');
        if (next === 'wait-for-ring') {
          deadline = Math.max(deadline, arrived + this.options.writeTimeoutMs + (this.options.cutoverWaitMs ?? CUTOVER_WAIT_MS));
          await waitForNewRing(this.options.source, table.ringVersion, deadline, this.now);
        }
        else if (next === 'pause') await backOff(this.options.source, deadline, this.now(), ++failuresInARow);
      } else if (error.code === 'UNAVAILABLE' || (!isWrite && error.code === 'TIMEOUT')) {
        this.retried('unavailable');
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

  /**
   * A replica that does not serve the key says which ring it judged by. If
   * ours changed meanwhile, route again at once. If the replica's is as new
   * as the one we routed by, or newer, the key's slot is being cut over
   * (fenced until its new owner is on the ring) or our ring is behind:
   * either way the next ring is what to wait for, the pause a move costs a
   * client, not an error. If it is older, the replica has not seen our ring
   * yet: try again after a short pause. A replica that predates the version
   * is waited for like a newer one.
   */
  private afterWrongPartition(response: Extract<TransportResponse, { ok: false }>, routedBy: number | undefined): 'now' | 'wait-for-ring' | 'pause' {
    if (this.options.source.table().ringVersion !== routedBy) return 'now';
    const theirs = response.routingVersion;
    if (theirs !== undefined && routedBy !== undefined && theirs < routedBy) return 'pause';
    return 'wait-for-ring';
  }

  private send(request: ForwardRequest, target: Endpoint, routingVersion: number | undefined): Promise<TransportResponse> {
    // Field by field, as kvFrameRequest: a spread copy cost more than the rest of a request's forwarding (profiled).
    return this.options.transport.request({
      method: request.method,
      key: request.key,
      ttl: request.ttl,
      consistency: request.consistency,
      ifMatch: request.ifMatch,
      ifNoneMatch: request.ifNoneMatch,
      requestId: request.requestId,
      routingVersion,
      body: request.body,
      url: target.url,
      replica: target.id,
      timeoutMs: this.options.writeTimeoutMs + ATTEMPT_GRACE_MS,
    });
  }
}
