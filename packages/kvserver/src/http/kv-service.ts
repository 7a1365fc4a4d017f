import { errorAnswer, type Answer } from '@kvstore/cluster';
import {
  HEADER_PARTITION,
  HEADER_REPLICA,
  HEADER_REQUEST_ID,
  HEADER_ROUTING_VERSION,
  JSON_CONTENT_TYPE,
  KvError,
  OCTET_STREAM,
  notFound,
  payloadTooLarge,
  type Consistency,
} from '@kvstore/protocol';
import { type KvFrameAnswer, type KvFrameRequest } from '@kvstore/wire';
import type { Precondition } from '../replication/precondition';
import type { Replica } from '../replication/replica';
import type { Logger } from '../replication/types';

export interface KvServiceDeps {
  replica: Replica;
  partition: string;
  maxValueBytes: number;
  logger: Logger;
  /** Which keys this replica serves (SlotRouting in the program). */
  routing: KeyRouting;
  /** Told how long each acknowledged write and each strong read took. */
  timings?: KvTimings;
}

export interface KvTimings {
  writeAcknowledged(seconds: number): void;
  strongReadAnswered(seconds: number): void;
}

/** What a request wants of a key: writes and strong reads are guarded again by the fences in the leader's log. */
export type KeyUse = 'write' | Consistency;

/** What KvService needs of the slot table (zk/slot-routing.ts). */
export interface KeyRouting {
  /** Throws WRONG_PARTITION or UNAVAILABLE when `key` is not served here for `use`. */
  check(key: string, use: KeyUse, requestVersion: number | undefined): void;
  /** Before a write: a promise while the ring must first be sealed, else undefined. */
  beforeWrite(): Promise<void> | undefined;
  readonly ringVersion: number | undefined;
}

/**
 * The public API of this replica's partition (docs/api.md), the same answers
 * the gate gives, as typed answers rather than through a framework: one
 * code path for client HTTP and for the gate's kv frames. The request
 * arrives parsed (KvFrameRequest), whichever way it came.
 */
export class KvService {
  /** X-Kv-Partition and X-Kv-Replica, the same on every HTTP answer. */
  private readonly who: Readonly<Record<string, string>>;

  constructor(private readonly deps: KvServiceDeps) {
    this.who = { [HEADER_PARTITION]: deps.partition, [HEADER_REPLICA]: deps.replica.id };
  }

  /** Never rejects: every failure is a refusal. */
  serve(request: KvFrameRequest): Promise<KvFrameAnswer> {
    return this.outcome(() => this.dispatch(request), request.requestId);
  }

  /** Runs `work`, turning whatever it throws into a refusal. */
  async outcome(work: () => Promise<KvFrameAnswer>, requestId: string): Promise<KvFrameAnswer> {
    try {
      return await work();
    } catch (error) {
      return this.refused(error, requestId);
    }
  }

  /** As outcome, answered over HTTP. */
  async answer(work: () => Promise<KvFrameAnswer>, requestId: string): Promise<Answer> {
    return this.httpAnswer(await this.outcome(work, requestId), requestId);
  }

  /** A failure's HTTP answer (refused), naming the request. */
  refusal(error: unknown, requestId: string): Answer {
    return this.httpAnswer(this.refused(error, requestId), requestId);
  }

  /** What a failure is answered: a KvError as itself, anything else (logged here) as INTERNAL. */
  refused(error: unknown, requestId: string): KvFrameAnswer {
    let refusal: KvError;
    if (error instanceof KvError) refusal = error;
    else {
      this.deps.logger.error({ err: error, requestId }, 'unexpected error');
      refusal = new KvError('INTERNAL', 'internal error');
    }
    // A WRONG_PARTITION says which table it was judged by: a gate with an older one catches up, one with a newer one waits for this replica.
    const routingVersion = refusal.code === 'WRONG_PARTITION' ? this.deps.routing.ringVersion : undefined;
    return { ok: false, replica: this.deps.replica.id, error: refusal, routingVersion };
  }

  /** The HTTP form of an answer; a refusal names the request (header and body) so its lines can be found in the logs. */
  httpAnswer(answer: KvFrameAnswer, requestId: string): Answer {
    if (answer.ok) {
      const headers: Record<string, string> = { ...this.who, 'content-type': answer.contentType };
      if (answer.version !== undefined) headers.etag = `"${answer.version}"`;
      return { status: 200, headers, body: answer.body };
    }
    const headers: Record<string, string> = { ...this.who, [HEADER_REQUEST_ID]: requestId };
    if (answer.routingVersion !== undefined) headers[HEADER_ROUTING_VERSION] = String(answer.routingVersion);
    return errorAnswer(answer.error, headers);
  }

  async put(key: string, value: Buffer, ttlSeconds: number | undefined, precondition: Precondition = {}, routingVersion?: number): Promise<KvFrameAnswer> {
    // Plain HTTP refuses a large body before reading it; a gate's frame arrives whole.
    if (value.length > this.deps.maxValueBytes) throw payloadTooLarge(`value is ${value.length} bytes; the limit is ${this.deps.maxValueBytes}`);
    // The log and the store keep the value: a view into a socket's read buffer would keep the whole buffer alive.
    const owned = value.byteLength === value.buffer.byteLength ? value : Buffer.from(value);
    await this.writable(key, routingVersion);
    const started = performance.now();
    const { version } = await this.deps.replica.put(key, owned, ttlSeconds, precondition);
    this.deps.timings?.writeAcknowledged((performance.now() - started) / 1000);
    return this.json({ key, version }, version);
  }

  async get(key: string, consistency: Consistency, routingVersion?: number): Promise<KvFrameAnswer> {
    this.deps.routing.check(key, consistency, routingVersion);
    const started = performance.now();
    const stored = await this.deps.replica.read(key, consistency);
    if (consistency === 'strong') this.deps.timings?.strongReadAnswered((performance.now() - started) / 1000);
    if (!stored) throw notFound();
    return { ok: true, replica: this.deps.replica.id, version: stored.version, contentType: OCTET_STREAM, body: stored.value };
  }

  private dispatch(request: KvFrameRequest): Promise<KvFrameAnswer> {
    const { key, routingVersion } = request;
    switch (request.method) {
      case 'PUT':
        return this.put(key, request.body, request.ttl, { ifMatch: request.ifMatch, ifNoneMatch: request.ifNoneMatch }, routingVersion);
      case 'GET':
        return this.get(key, request.consistency, routingVersion);
      case 'DELETE':
        return this.delete(key, { ifMatch: request.ifMatch }, routingVersion);
    }
  }

  /** A write is judged by a sealed ring: the first one waits for the seal, the others do not wait at all. */
  private async writable(key: string, routingVersion: number | undefined): Promise<void> {
    const sealing = this.deps.routing.beforeWrite();
    if (sealing) await sealing;
    this.deps.routing.check(key, 'write', routingVersion);
  }

  private async delete(key: string, precondition: Precondition, routingVersion: number | undefined): Promise<KvFrameAnswer> {
    await this.writable(key, routingVersion);
    const started = performance.now();
    const { version, deleted } = await this.deps.replica.delete(key, precondition);
    this.deps.timings?.writeAcknowledged((performance.now() - started) / 1000);
    return this.json({ key, deleted: deleted ?? false, version }, undefined);
  }

  private json(value: unknown, version: number | undefined): KvFrameAnswer {
    return { ok: true, replica: this.deps.replica.id, version, contentType: JSON_CONTENT_TYPE, body: Buffer.from(JSON.stringify(value)) };
  }
}
