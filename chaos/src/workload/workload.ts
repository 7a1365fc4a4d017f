import { setTimeout as sleep } from 'node:timers/promises';
import type { Ring } from '@kvstore/topology';
import type { HistoryOperation, OperationKind } from '../history';
import { Random } from '../random';
import { errorCodeOf, send, type Attempt } from './http';

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

export interface WorkloadOptions {
  seed: number;
  concurrency: number;
  keys: number;
  gateUrls: () => string[];
  ring: Ring;
  /** Per request (default 3000 ms). */
  requestTimeoutMs?: number;
}

export function keyName(index: number): string {
  return `k${String(index).padStart(4, '0')}`;
}

/**
 * The clients of a chaos run and what they saw. Each client is a sequential
 * process: one operation at a time, every choice (key, operation, gate) from
 * its own seeded stream. Every operation is recorded as history.ts says.
 */
export class Workload {
  readonly operations: HistoryOperation[] = [];
  readonly eventualReads: EventualRead[] = [];
  private nextId = 1;
  private readonly timeoutMs: number;

  constructor(private readonly options: WorkloadOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? 3000;
  }

  /** Runs every client until `until` (ms since the epoch); resolves when the last one's operation is over. */
  async run(until: number): Promise<void> {
    await Promise.all(Array.from({ length: this.options.concurrency }, (_, client) => this.client(client, until)));
  }

  private async client(client: number, until: number): Promise<void> {
    const rng = Random.stream(this.options.seed, `client-${client}`);
    let written = 0;
    while (Date.now() < until) {
      const key = keyName(rng.int(this.options.keys));
      const gate = rng.int(2);
      const choice = rng.next();
      let outcome: string;
      if (choice < 0.5) {
        outcome = rng.chance(0.1) ? (await this.eventualRead(client, key, gate)).outcome : (await this.read(client, key, gate)).outcome;
      } else if (choice < 0.85) {
        outcome = (await this.write(client, key, `c${client}-${written++}`, gate)).outcome;
      } else {
        const value = `c${client}-${written++}`;
        const read = await this.read(client, key, gate);
        outcome = read.outcome;
        if (read.outcome === 'ok') outcome = (await this.cas(client, key, read.result ?? null, read.etag, value, gate)).outcome;
      }
      // A partition without a leader answers at once: do not spin on it.
      if (outcome !== 'ok') await sleep(50);
    }
  }

  /** The final check: one strong read of every key, retried until it succeeds (bounded). */
  async finalReads(readers: number, attempts = 60): Promise<{ unread: string[] }> {
    const queue = Array.from({ length: this.options.keys }, (_, index) => keyName(index));
    const unread: string[] = [];
    await Promise.all(
      Array.from({ length: readers }, async (_, reader) => {
        const client = this.options.concurrency + reader;
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
          let done = false;
          for (let attempt = 0; attempt < attempts && !done; attempt++) {
            done = (await this.read(client, key, attempt % 2)).outcome === 'ok';
            if (!done) await sleep(250);
          }
          if (!done) unread.push(key);
        }
      }),
    );
    return { unread };
  }

  private gateAttempt(gatePreference: number, method: 'GET' | 'PUT', path: string, headers: Record<string, string>, body?: string): Promise<Attempt> {
    const urls = this.options.gateUrls();
    const order = [urls[gatePreference % urls.length], urls[(gatePreference + 1) % urls.length]];
    return (async () => {
      let last: Attempt = { kind: 'refused', error: 'no gate' };
      for (const base of order) {
        last = await send({ method, url: `${base}${path}`, headers, body, timeoutMs: this.timeoutMs });
        // Only a connection refused before anything was sent may go to the other gate.
        if (last.kind !== 'refused') return last;
      }
      return last;
    })();
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

  private finish(operation: { outcome: string; completedAt?: number; detail?: string; partition?: string }, attempt: Attempt, outcome: 'ok' | 'fail' | 'unknown'): void {
    operation.outcome = outcome;
    if (outcome !== 'unknown') operation.completedAt = Date.now();
    if (attempt.kind === 'answered') {
      const code = attempt.status >= 300 ? errorCodeOf(attempt.body) : undefined;
      operation.detail = `${attempt.status}${code ? ` ${code}` : ''}${attempt.replica ? ` @${attempt.replica}` : ''}`;
      if (attempt.partition) operation.partition = attempt.partition;
    } else {
      operation.detail = attempt.kind === 'refused' ? `refused ${attempt.error}` : `lost ${attempt.error}`;
    }
  }

  /** A strong read; also returns the ETag for a following compare-and-set. */
  private async read(client: number, key: string, gate: number): Promise<HistoryOperation & { etag: string | null }> {
    const operation = this.begin(client, key, 'read');
    const attempt = await this.gateAttempt(gate, 'GET', Workload.path(key, '?consistency=strong'), {});
    let etag: string | null = null;
    if (attempt.kind === 'answered' && (attempt.status === 200 || (attempt.status === 404 && errorCodeOf(attempt.body) === 'NOT_FOUND'))) {
      this.finish(operation, attempt, 'ok');
      operation.result = attempt.status === 200 ? attempt.body : null;
      etag = attempt.status === 200 ? attempt.etag : null;
    } else {
      this.finish(operation, attempt, readOutcome(attempt));
    }
    return Object.assign(operation, { etag });
  }

  private async eventualRead(client: number, key: string, gate: number): Promise<EventualRead> {
    const read: EventualRead = { id: this.nextId++, client, key, partition: this.options.ring.ownerOf(key), invokedAt: Date.now(), outcome: 'unknown' };
    this.eventualReads.push(read);
    const attempt = await this.gateAttempt(gate, 'GET', Workload.path(key, '?consistency=eventual'), {});
    if (attempt.kind === 'answered' && (attempt.status === 200 || (attempt.status === 404 && errorCodeOf(attempt.body) === 'NOT_FOUND'))) {
      this.finish(read, attempt, 'ok');
      read.result = attempt.status === 200 ? attempt.body : null;
    } else {
      this.finish(read, attempt, readOutcome(attempt));
    }
    return read;
  }

  private async write(client: number, key: string, value: string, gate: number): Promise<HistoryOperation> {
    const operation = this.begin(client, key, 'write', { value });
    const attempt = await this.gateAttempt(gate, 'PUT', Workload.path(key), { 'content-type': 'application/octet-stream' }, value);
    this.finish(operation, attempt, writeOutcome(attempt));
    return operation;
  }

  private async cas(client: number, key: string, expected: string | null, etag: string | null, value: string, gate: number): Promise<HistoryOperation> {
    const operation = this.begin(client, key, 'cas', { value, expected });
    const condition: Record<string, string> = expected === null || etag === null ? { 'if-none-match': '*' } : { 'if-match': etag };
    const attempt = await this.gateAttempt(gate, 'PUT', Workload.path(key), { 'content-type': 'application/octet-stream', ...condition }, value);
    this.finish(operation, attempt, writeOutcome(attempt));
    return operation;
  }
}

/** A write: 2xx applied; 503, 4xx not applied; 504, other 5xx, a lost connection: unknown. Refused by every gate: not sent. */
export function writeOutcome(attempt: Attempt): 'ok' | 'fail' | 'unknown' {
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
