import type { KvClient } from '@kvstore/kvclient';
import type { Ring } from '@kvstore/protocol';
import type { HistoryOperation, OperationKind } from '../history';
import { errorCodeOf, send, type Attempt } from './http';
import { selfRoutingAttempt } from './self-routing';

/** An eventual read: kept out of the linearizability check, checked only for values never written. */
export interface EventualRead {
  id: number;
  client: number;
  key: string;
  partition?: string;
  invokedAt: number;
  completedAt?: number;
  outcome: 'ok' | 'fail' | 'unknown';
  result?: string | null;
  detail?: string;
}

/**
 * Where a request goes: through a gate (the preferred one; the other when
 * the connection is refused), straight to one replica, which serves the
 * same API for its own partition (a client beside a replica, or one that
 * talks to a replica a gate no longer routes to), or through the
 * self-routing kvclient (self-routing.ts).
 */
export type Route = { gate: number } | { replica: string; url: string } | { selfRouting: true };

/** An operation as recorded, and the ETag of the version it read or wrote (null: none). */
export interface Recorded {
  operation: HistoryOperation;
  etag: string | null;
}

export interface RecorderOptions {
  gateUrls: () => string[];
  ring: Ring;
  /** Per request (default 3000 ms). */
  requestTimeoutMs?: number;
  /** The client that `{ selfRouting: true }` routes send through. */
  selfRouting?: KvClient;
}

const OCTET_STREAM = { 'content-type': 'application/octet-stream' };

/**
 * Sends the workload's requests and records each one in the history the way
 * history.ts says: invocation, completion, outcome. Every client of a run
 * records through one recorder, so operation ids are unique.
 */
export class HistoryRecorder {
  readonly operations: HistoryOperation[] = [];
  readonly eventualReads: EventualRead[] = [];
  private nextId = 1;
  private readonly timeoutMs: number;

  constructor(private readonly options: RecorderOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? 3000;
  }

  /** A strong read; the ETag is for a following compare-and-set. */
  async read(client: number, key: string, route: Route): Promise<Recorded> {
    const operation = this.begin(client, key, 'read');
    const attempt = await this.attempt(route, 'GET', HistoryRecorder.path(key, '?consistency=strong'), {});
    let etag: string | null = null;
    if (isReadAnswer(attempt)) {
      this.finish(operation, attempt, 'ok', route);
      operation.result = attempt.status === 200 ? attempt.body : null;
      etag = attempt.status === 200 ? attempt.etag : null;
    } else {
      this.finish(operation, attempt, readOutcome(attempt), route);
    }
    return { operation, etag };
  }

  async eventualRead(client: number, key: string, route: Route): Promise<EventualRead> {
    const read: EventualRead = { id: this.nextId++, client, key, partition: this.options.ring.ownerOf(key), invokedAt: Date.now(), outcome: 'unknown' };
    this.eventualReads.push(read);
    const attempt = await this.attempt(route, 'GET', HistoryRecorder.path(key, '?consistency=eventual'), {});
    if (isReadAnswer(attempt)) {
      this.finish(read, attempt, 'ok', route);
      read.result = attempt.status === 200 ? attempt.body : null;
    } else {
      this.finish(read, attempt, readOutcome(attempt), route);
    }
    return read;
  }

  /** A plain PUT, with `?ttl=` when ttlSeconds is given. */
  write(client: number, key: string, value: string, route: Route, ttlSeconds?: number): Promise<Recorded> {
    const operation = this.begin(client, key, 'write', { value, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) });
    return this.change(operation, route, 'PUT', HistoryRecorder.path(key, ttlQuery(ttlSeconds)), OCTET_STREAM, value);
  }

  /** PUT with `If-Match: <etag>`, or `If-None-Match: *` when the key is expected absent. */
  cas(client: number, key: string, expected: string | null, etag: string | null, value: string, route: Route, ttlSeconds?: number): Promise<Recorded> {
    const operation = this.begin(client, key, 'cas', { value, expected, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) });
    const condition: Record<string, string> = expected === null || etag === null ? { 'if-none-match': '*' } : { 'if-match': etag };
    return this.change(operation, route, 'PUT', HistoryRecorder.path(key, ttlQuery(ttlSeconds)), { ...OCTET_STREAM, ...condition }, value);
  }

  /** DELETE with `If-Match: <etag>`, the version of `expected`. */
  delete(client: number, key: string, expected: string, etag: string, route: Route): Promise<Recorded> {
    const operation = this.begin(client, key, 'delete', { expected });
    return this.change(operation, route, 'DELETE', HistoryRecorder.path(key), { 'if-match': etag });
  }

  private async change(
    operation: HistoryOperation,
    route: Route,
    method: 'PUT' | 'DELETE',
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Recorded> {
    const attempt = await this.attempt(route, method, path, headers, body);
    const outcome = writeOutcome(attempt);
    this.finish(operation, attempt, outcome, route);
    return { operation, etag: outcome === 'ok' && attempt.kind === 'answered' ? attempt.etag : null };
  }

  private async attempt(route: Route, method: 'GET' | 'PUT' | 'DELETE', path: string, headers: Record<string, string>, body?: string): Promise<Attempt> {
    if ('url' in route) return send({ method, url: `${route.url}${path}`, headers, body, timeoutMs: this.timeoutMs });
    if ('selfRouting' in route) return selfRoutingAttempt(this.options.selfRouting!, method, path, headers, body);
    const urls = this.options.gateUrls();
    const order = [urls[route.gate % urls.length], urls[(route.gate + 1) % urls.length]];
    let last: Attempt = { kind: 'refused', error: 'no gate' };
    for (const base of order) {
      last = await send({ method, url: `${base}${path}`, headers, body, timeoutMs: this.timeoutMs });
      // Only a connection refused before anything was sent may go to the other gate.
      if (last.kind !== 'refused') return last;
    }
    return last;
  }

  private begin(client: number, key: string, kind: OperationKind, fields: Partial<HistoryOperation> = {}): HistoryOperation {
    const operation: HistoryOperation = {
      id: this.nextId++,
      client,
      key,
      partition: this.options.ring.ownerOf(key),
      kind,
      ...fields,
      invokedAt: Date.now(),
      outcome: 'unknown',
    };
    this.operations.push(operation);
    return operation;
  }

  private static path(key: string, query = ''): string {
    return `/v1/kv/${encodeURIComponent(key)}${query}`;
  }

  private finish(
    operation: { outcome: string; completedAt?: number; detail?: string; partition?: string },
    attempt: Attempt,
    outcome: 'ok' | 'fail' | 'unknown',
    route: Route,
  ): void {
    operation.outcome = outcome;
    if (outcome !== 'unknown') operation.completedAt = Date.now();
    const direct = 'replica' in route ? ` direct to ${route.replica}` : 'selfRouting' in route ? ' self-routing' : '';
    if (attempt.kind === 'answered') {
      const code = attempt.status >= 300 ? errorCodeOf(attempt.body) : undefined;
      operation.detail = `${attempt.status}${code ? ` ${code}` : ''}${attempt.replica ? ` @${attempt.replica}` : ''}${direct}`;
      if (attempt.partition) operation.partition = attempt.partition;
    } else {
      operation.detail = `${attempt.kind === 'refused' ? 'refused' : 'lost'} ${attempt.error}${direct}`;
    }
  }
}

function ttlQuery(ttlSeconds: number | undefined): string {
  return ttlSeconds === undefined ? '' : `?ttl=${ttlSeconds}`;
}

/** 200, or 404 NOT_FOUND: the read saw a value, or the key absent. */
function isReadAnswer(attempt: Attempt): attempt is Extract<Attempt, { kind: 'answered' }> {
  return attempt.kind === 'answered' && (attempt.status === 200 || (attempt.status === 404 && errorCodeOf(attempt.body) === 'NOT_FOUND'));
}

/** A write: 2xx applied; 503, 4xx not applied; 504, other 5xx, a lost connection: unknown. Refused by every gate: not sent. */
function writeOutcome(attempt: Attempt): 'ok' | 'fail' | 'unknown' {
  if (attempt.kind === 'refused') return 'fail';
  if (attempt.kind === 'lost') return 'unknown';
  if (attempt.status >= 200 && attempt.status < 300) return 'ok';
  if (attempt.status === 503 || (attempt.status >= 400 && attempt.status < 500)) return 'fail';
  return 'unknown';
}

/** A read that did not answer 200/404: it told nothing; "fail" when refused or answered with an error, "unknown" when lost. */
function readOutcome(attempt: Attempt): 'fail' | 'unknown' {
  if (attempt.kind === 'lost') return 'unknown';
  if (attempt.kind === 'answered' && attempt.status >= 500 && attempt.status !== 503) return 'unknown';
  return 'fail';
}
