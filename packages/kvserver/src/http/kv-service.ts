import { jsonAnswer, refusalAnswer, type Answer } from '@kvstore/cluster';
import {
  HEADER_PARTITION,
  HEADER_REPLICA,
  HEADER_REQUEST_ID,
  HEADER_ROUTING_VERSION,
  KvError,
  badRequest,
  decodeKey,
  notFound,
  parseConsistency,
  parseIfMatch,
  parseIfNoneMatch,
  parseTtl,
  payloadTooLarge,
  queryParam,
  splitKvUrl,
  type Consistency,
} from '@kvstore/protocol';
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

/** A `/v1/kv` request, whichever way it arrived (plain HTTP from a client, or a gate's multiplexed frame). */
export interface KvCall {
  method: string;
  /** Path and query, `/v1/kv/<key>[?...]`. */
  url: string;
  ifMatch: string | undefined;
  ifNoneMatch: string | undefined;
  /** The `x-kv-routing-version` the gate routed the request by, as sent. */
  routingVersion: string | undefined;
  body: Buffer;
  /** The request's X-Request-Id, well-formed (cluster's requestIdFor). */
  requestId: string;
}

const OCTET_STREAM = 'application/octet-stream';

/**
 * The public API of this replica's partition (docs/api.md), the same answers
 * the gate gives, as plain answers rather than through a framework: one
 * code path for client HTTP and for the gate's internal protocol.
 */
export class KvService {
  /** X-Kv-Partition and X-Kv-Replica, the same on every answer. */
  private readonly who: Readonly<Record<string, string>>;

  constructor(private readonly deps: KvServiceDeps) {
    this.who = { [HEADER_PARTITION]: deps.partition, [HEADER_REPLICA]: deps.replica.id };
  }

  /** Never rejects: every failure is an error answer. */
  serve(call: KvCall): Promise<Answer> {
    return this.answer(() => this.dispatch(call), call.requestId);
  }

  /** Runs `work`, turning whatever it throws into an error answer. */
  async answer(work: () => Promise<Answer>, requestId: string): Promise<Answer> {
    try {
      return await work();
    } catch (error) {
      return this.refusal(error, requestId);
    }
  }

  /** The error answer, which names the request (header and body) so its lines can be found in the logs. */
  refusal(error: unknown, requestId: string): Answer {
    const headers: Record<string, string> = { ...this.who, [HEADER_REQUEST_ID]: requestId };
    // A WRONG_PARTITION says which table it was judged by: a gate with an older one catches up, one with a newer one waits for this replica.
    if (error instanceof KvError && error.code === 'WRONG_PARTITION' && this.deps.routing.ringVersion !== undefined) {
      headers[HEADER_ROUTING_VERSION] = String(this.deps.routing.ringVersion);
    }
    return refusalAnswer(error, headers, (unexpected) => this.deps.logger.error({ err: unexpected, requestId }, 'unexpected error'));
  }

  async put(key: string, value: Buffer, ttlSeconds: number | undefined, ifMatch?: string, ifNoneMatch?: string, routingVersion?: number): Promise<Answer> {
    // Plain HTTP refuses a large body before reading it; a gate's frame arrives whole.
    if (value.length > this.deps.maxValueBytes) throw payloadTooLarge(`value is ${value.length} bytes; the limit is ${this.deps.maxValueBytes}`);
    const precondition = { ifMatch: parseIfMatch(ifMatch), ifNoneMatch: parseIfNoneMatch(ifNoneMatch) };
    // The log and the store keep the value: a view into a socket's read buffer would keep the whole buffer alive.
    const owned = value.byteLength === value.buffer.byteLength ? value : Buffer.from(value);
    await this.writable(key, routingVersion);
    const started = performance.now();
    const { version } = await this.deps.replica.put(key, owned, ttlSeconds, precondition);
    this.deps.timings?.writeAcknowledged((performance.now() - started) / 1000);
    return jsonAnswer(200, { key, version }, { ...this.who, etag: `"${version}"` });
  }

  async get(key: string, consistency: Consistency, routingVersion?: number): Promise<Answer> {
    this.deps.routing.check(key, consistency, routingVersion);
    const started = performance.now();
    const stored = await this.deps.replica.read(key, consistency);
    if (consistency === 'strong') this.deps.timings?.strongReadAnswered((performance.now() - started) / 1000);
    if (!stored) throw notFound();
    return { status: 200, headers: { ...this.who, etag: `"${stored.version}"`, 'content-type': OCTET_STREAM }, body: stored.value };
  }

  private dispatch(call: KvCall): Promise<Answer> {
    const { encodedKey, query } = splitKvUrl(call.url);
    const key = decodeKey(encodedKey);
    const routingVersion = parseRoutingVersion(call.routingVersion);
    switch (call.method) {
      case 'PUT':
        return this.put(key, call.body, parseTtl(queryParam(query, 'ttl')), call.ifMatch, call.ifNoneMatch, routingVersion);
      case 'GET':
        return this.get(key, parseConsistency(queryParam(query, 'consistency')), routingVersion);
      case 'DELETE':
        return this.delete(key, call.ifMatch, routingVersion);
      default:
        throw new KvError('NOT_FOUND', `no route for ${call.method} /v1/kv/<key>; use GET, PUT or DELETE`);
    }
  }

  /** A write is judged by a sealed ring: the first one waits for the seal, the others do not wait at all. */
  private async writable(key: string, routingVersion: number | undefined): Promise<void> {
    const sealing = this.deps.routing.beforeWrite();
    if (sealing) await sealing;
    this.deps.routing.check(key, 'write', routingVersion);
  }

  private async delete(key: string, ifMatch: string | undefined, routingVersion: number | undefined): Promise<Answer> {
    const precondition = { ifMatch: parseIfMatch(ifMatch) };
    await this.writable(key, routingVersion);
    const started = performance.now();
    const { version, deleted } = await this.deps.replica.delete(key, precondition);
    this.deps.timings?.writeAcknowledged((performance.now() - started) / 1000);
    return jsonAnswer(200, { key, deleted: deleted ?? false, version }, this.who);
  }

}

function parseRoutingVersion(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const version = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(version)) throw badRequest(`${HEADER_ROUTING_VERSION} must be a ring version (an integer)`);
  return version;
}
