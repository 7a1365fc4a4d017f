import type { Readable } from 'node:stream';
import { HEADER_REQUEST_ID, KvError, errorFromAnswer, notFound, readErrorBody, unavailable } from '@kvstore/protocol';
import type { ClusterAuth, ClusterTls } from '@kvstore/cluster';
import { Agent, buildConnector } from 'undici';
import type { ClusterSnapshot } from '../routing/snapshot';
import type { RouteSource } from '../routing/routing-state';
import { currentLeader, type Endpoint } from '../routing/routing-table';
import { ATTEMPT_GRACE_MS, MAX_ATTEMPTS, backOff, outOfTime, trustedHint, waitForChange } from './retry';

/** The replica route that streams a partition's snapshot (kvserver's http/admin-routes.ts). */
const REPLICA_SNAPSHOT_PATH = '/v1/admin/snapshot';

export interface StreamRequest {
  /** The replica's base url. */
  url: string;
  path: string;
  /** Bound on the wait for the status line and headers. */
  headersTimeoutMs: number;
  /** Bound on a silence between two chunks of the body once it flows. */
  idleTimeoutMs: number;
  /** The client's request's id, for the replica's log lines about it. */
  requestId: string;
}

export interface StreamResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Not read yet: the caller pipes it on, or reads it whole for an error. */
  body: Readable;
}

/** The seam for streamed answers: the buffering DataTransport would hold a whole snapshot in memory. */
export interface StreamTransport {
  /** Rejects when no answer (status and headers) arrives; every such failure of a GET is safe to retry. */
  open(request: StreamRequest): Promise<StreamResponse>;
  close(): Promise<void>;
}

/** undici, one keep-alive Agent for snapshot streams (apart from the data path's pool). */
export class UndiciStreamTransport implements StreamTransport {
  private readonly agent: Agent;

  private readonly auth: ClusterAuth | undefined;

  /** With `tls`: https:// replicas verified against the cluster CA. With `auth`: each request proves the cluster secret (replicas with --auth on want it, or an admin's token). */
  constructor(options: { connectTimeoutMs?: number; tls?: ClusterTls | undefined; auth?: ClusterAuth } = {}) {
    this.auth = options.auth;
    const timeout = options.connectTimeoutMs ?? 1000;
    this.agent = new Agent({ connect: options.tls ? options.tls.connector(buildConnector, timeout) : { timeout }, keepAliveTimeout: 4000 });
  }

  async open(request: StreamRequest): Promise<StreamResponse> {
    const answer = await this.agent.request({
      origin: request.url,
      path: request.path,
      method: 'GET',
      headers: { ...this.auth?.headersFor('GET', request.path), [HEADER_REQUEST_ID]: request.requestId },
      headersTimeout: request.headersTimeoutMs,
      bodyTimeout: request.idleTimeoutMs,
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: answer.statusCode, headers, body: answer.body };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** The routing state: its records (the snapshot) for the partitions on the ring, its table for hints. */
export interface SnapshotSourceOfTruth extends RouteSource {
  snapshot(): ClusterSnapshot;
}

export interface SnapshotProxyOptions {
  routing: SnapshotSourceOfTruth;
  transport: StreamTransport;
  /** Retries stop once this much time has passed since the request arrived (the gate's --write-timeout). */
  writeTimeoutMs: number;
  /** Default: max(30 s, 10 × writeTimeoutMs). */
  idleTimeoutMs?: number;
  now?: () => number;
}

export type SnapshotOpenResult =
  | { ok: true; partition: string; replica: string; response: StreamResponse }
  | { ok: false; partition?: string; replica?: string; error: KvError };


/**
 * Opens the snapshot stream of one partition at its leader, retrying what a
 * strong read would retry before the first byte: NOT_LEADER (at a trusted
 * hint, or once the watcher knows a new leader), a refused or silent
 * connection, a 503, no leader. Once the stream flows, nothing is retried:
 * the reader tells a cut stream by its missing trailer.
 */
export class SnapshotProxy {
  private readonly now: () => number;
  private readonly idleTimeoutMs: number;

  constructor(private readonly options: SnapshotProxyOptions) {
    this.now = options.now ?? Date.now;
    this.idleTimeoutMs = options.idleTimeoutMs ?? Math.max(30_000, options.writeTimeoutMs * 10);
  }

  async open(partition: string, requestId: string): Promise<SnapshotOpenResult> {
    const deadline = this.now() + this.options.writeTimeoutMs;
    let failure: { replica?: string; error: KvError } | undefined;
    let hint: Endpoint | undefined;
    let failuresInARow = 0;

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0 && this.now() >= deadline) break;
      const snapshot = this.options.routing.snapshot();
      if (!snapshot.ring) {
        failure = { error: unavailable('no ring is loaded yet') };
        await waitForChange(this.options.routing, deadline, this.now());
        continue;
      }
      if (!snapshot.ring.partitions.includes(partition)) {
        return { ok: false, error: notFound(`no partition ${JSON.stringify(partition)} on the ring`) };
      }
      const records = snapshot.partitions.get(partition);
      const target = hint ?? currentLeader(records);
      hint = undefined;
      if (!target) {
        failure = { error: unavailable(`partition ${partition} has no leader`) };
        await waitForChange(this.options.routing, deadline, this.now());
        continue;
      }

      let response: StreamResponse;
      try {
        response = await this.options.transport.open({
          url: target.url,
          path: REPLICA_SNAPSHOT_PATH,
          headersTimeoutMs: Math.max(1, deadline - this.now()) + ATTEMPT_GRACE_MS,
          idleTimeoutMs: this.idleTimeoutMs,
          requestId,
        });
      } catch (error) {
        const reason = (error as { code?: unknown }).code ?? (error as Error).message;
        failure = { replica: target.id, error: unavailable(`replica ${target.id} of partition ${partition} gave no answer (${String(reason)})`, error) };
        failuresInARow++;
        await backOff(this.options.routing, deadline, this.now(), failuresInARow);
        continue;
      }

      const replica = response.headers['x-kv-replica'] ?? target.id;
      if (response.status >= 200 && response.status < 300) return { ok: true, partition, replica, response };
      const error = errorFromAnswer(response.status, await readErrorBody(response.body), `replica ${target.id}`);
      failure = { replica, error };
      if (error.code === 'NOT_LEADER') {
        hint = trustedHint(this.options.routing, partition, error, target);
        if (!hint) await waitForChange(this.options.routing, deadline, this.now());
      } else if (error.code === 'UNAVAILABLE' || error.code === 'TIMEOUT') {
        failuresInARow++;
        await backOff(this.options.routing, deadline, this.now(), failuresInARow);
      } else {
        return { ok: false, partition, ...failure };
      }
    }
    // There is at least one attempt, and every one that does not return records its failure.
    const last = failure!;
    return { ok: false, partition, replica: last.replica, error: outOfTime(last.error, partition) };
  }

  close(): Promise<void> {
    return this.options.transport.close();
  }
}
