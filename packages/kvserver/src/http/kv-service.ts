import { jsonAnswer, refusalAnswer, type Answer } from '@kvstore/cluster';
import {
  HEADER_PARTITION,
  HEADER_REPLICA,
  KvError,
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
  /** Whether the current ring puts `key` on this partition. */
  owns(key: string): boolean;
}

/** A `/v1/kv` request, whichever way it arrived (plain HTTP from a client, or a gate's multiplexed frame). */
export interface KvCall {
  method: string;
  /** Path and query, `/v1/kv/<key>[?...]`. */
  url: string;
  ifMatch: string | undefined;
  ifNoneMatch: string | undefined;
  body: Buffer;
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
    return this.answer(() => this.dispatch(call));
  }

  /** Runs `work`, turning whatever it throws into an error answer. */
  async answer(work: () => Promise<Answer>): Promise<Answer> {
    try {
      return await work();
    } catch (error) {
      return this.refusal(error);
    }
  }

  refusal(error: unknown): Answer {
    return refusalAnswer(error, this.who, (unexpected) => this.deps.logger.error({ err: unexpected }, 'unexpected error'));
  }

  async put(key: string, value: Buffer, ttlSeconds: number | undefined, ifMatch?: string, ifNoneMatch?: string): Promise<Answer> {
    // Plain HTTP refuses a large body before reading it; a gate's frame arrives whole.
    if (value.length > this.deps.maxValueBytes) throw payloadTooLarge(`value is ${value.length} bytes; the limit is ${this.deps.maxValueBytes}`);
    const precondition = { ifMatch: parseIfMatch(ifMatch), ifNoneMatch: parseIfNoneMatch(ifNoneMatch) };
    // The log and the store keep the value: a view into a socket's read buffer would keep the whole buffer alive.
    const owned = value.byteLength === value.buffer.byteLength ? value : Buffer.from(value);
    const { version } = await this.deps.replica.put(this.owned(key), owned, ttlSeconds, precondition);
    return jsonAnswer(200, { key, version }, { ...this.who, etag: `"${version}"` });
  }

  async get(key: string, consistency: Consistency): Promise<Answer> {
    const stored = await this.deps.replica.read(this.owned(key), consistency);
    if (!stored) throw notFound();
    return { status: 200, headers: { ...this.who, etag: `"${stored.version}"`, 'content-type': OCTET_STREAM }, body: stored.value };
  }

  private dispatch(call: KvCall): Promise<Answer> {
    const { encodedKey, query } = splitKvUrl(call.url);
    const key = decodeKey(encodedKey);
    switch (call.method) {
      case 'PUT':
        return this.put(key, call.body, parseTtl(queryParam(query, 'ttl')), call.ifMatch, call.ifNoneMatch);
      case 'GET':
        return this.get(key, parseConsistency(queryParam(query, 'consistency')));
      case 'DELETE':
        return this.delete(key, call.ifMatch);
      default:
        throw new KvError('NOT_FOUND', `no route for ${call.method} /v1/kv/<key>; use GET, PUT or DELETE`);
    }
  }

  private async delete(key: string, ifMatch: string | undefined): Promise<Answer> {
    const precondition = { ifMatch: parseIfMatch(ifMatch) };
    const { version, deleted } = await this.deps.replica.delete(this.owned(key), precondition);
    return jsonAnswer(200, { key, deleted: deleted ?? false, version }, this.who);
  }

  /** Checked after the request is parsed, so bad input is a 400 wherever it is sent. */
  private owned(key: string): string {
    if (!this.deps.owns(key)) throw new KvError('WRONG_PARTITION', `key does not belong to partition ${this.deps.partition} on the current ring`);
    return key;
  }

}
