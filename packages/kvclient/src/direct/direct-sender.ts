import type { ConnectionOptions } from 'node:tls';
import { KvError, MAX_VALUE_BYTES_LIMIT, newRequestId, type KvRequest } from '@kvstore/protocol';
import {
  CLIENT_MUX_PATH,
  FrameKind,
  KvFrameError,
  MUX_FRAME_HEADROOM,
  MuxPool,
  TransportError,
  UpgradeRefusedError,
  decodeKvFrameAnswer,
  encodeKvFrameRequest,
  kvFrameRequest,
  type KvFrameAnswer,
} from '@kvstore/wire';
import type { KeyAnswer } from '../key-request';
import { mayRepeat } from '../retry';
import type { DirectRoutes, KeyUse } from './direct-routes';
import type { RouteCache } from './route-cache';

/**
 * A replica that turned the door away (404: from before the door, in a
 * rolling upgrade; 401: not for this token) is asked again after this;
 * until then its keys go through the gates, and the table stays good for
 * the others.
 */
const CLOSED_DOOR_RECHECK_MS = 30_000;

/** How one try at a replica ended: its answer, "take the gate", or a refusal that says nothing was applied. */
type Attempt =
  | { kind: 'answer'; answer: KeyAnswer }
  | { kind: 'gate' }
  | { kind: 'refused'; error: KvError; routingVersion: number | undefined; partition: string };

const GATE: Attempt = { kind: 'gate' };

export interface DirectSenderOptions {
  /** Sent on each connection's upgrade: the user's bearer token, when the client has one. */
  token: string | undefined;
  /** For https:// replicas: how to verify them. */
  tls: () => ConnectionOptions;
  timeoutMs: number;
  connectTimeoutMs: number;
}

/**
 * Sends a key's request straight to the replica that serves it, as a typed
 * kv frame on the replica's client door (`/v1/mux`: one multiplexed
 * connection per replica, binary, no HTTP parse on either side), by the ring
 * version it routed by. What a gate would retry (the refusals the API says
 * were not applied, a connection that was never made, and a read's unknown
 * outcome) is handed back as "take the gate" with the table marked wrong,
 * but for two cases: a NOT_LEADER that names a member of the partition is
 * followed there once (the table takes that leader), and a replica whose
 * door turns the connection away leaves the table good and is skipped for
 * a while (CLOSED_DOOR_RECHECK_MS). A write that may have arrived is never
 * sent again (TIMEOUT), and every other answer is the request's answer, as
 * through a gate.
 */
export class DirectSender {
  private readonly pool: MuxPool;
  private readonly timeoutMs: number;
  /** Replicas whose door turned us away, and until when they are not asked. */
  private readonly closedDoors = new Map<string, number>();

  constructor(
    private readonly cache: RouteCache,
    options: DirectSenderOptions,
  ) {
    const { token } = options;
    this.timeoutMs = options.timeoutMs;
    this.pool = new MuxPool({
      credentials: { path: CLIENT_MUX_PATH, headerLines: () => (token === undefined ? '' : `Authorization: Bearer ${token}\r\n`) },
      // A replica may be configured for values up to the limit; it is trusted to send no more than one.
      maxFrameBytes: MAX_VALUE_BYTES_LIMIT + MUX_FRAME_HEADROOM,
      connectTimeoutMs: options.connectTimeoutMs,
      tls: options.tls,
    });
  }

  /** The replica's success answer; undefined when the request is to go through a gate instead. Throws the replica's final refusal. */
  async send(fields: KvRequest, body: Buffer, use: KeyUse): Promise<KeyAnswer | undefined> {
    const routes = await this.cache.routes();
    if (!routes) return undefined;
    const requestId = newRequestId();
    let outcome = await this.attempt(routes, fields, body, use, requestId);
    // The leader moved to a member the replica names: nothing was applied, so the request goes there, once (as a gate follows the same hint).
    if (outcome.kind === 'refused' && outcome.error.code === 'NOT_LEADER' && outcome.error.leader !== undefined) {
      const moved = this.cache.leaderMoved(routes, outcome.partition, outcome.error.leader);
      if (moved) outcome = await this.attempt(moved, fields, body, use, requestId);
    }
    if (outcome.kind === 'answer') return outcome.answer;
    // A WRONG_PARTITION names the ring the replica judged by: only a newer one than ours makes our table wrong.
    if (outcome.kind === 'refused') this.cache.invalidate(outcome.error.code === 'WRONG_PARTITION' ? outcome.routingVersion : undefined);
    return undefined;
  }

  /** One try at the replica `routes` names for the key. Throws a final refusal, and TIMEOUT for a write that may have arrived. */
  private async attempt(routes: DirectRoutes, fields: KvRequest, body: Buffer, use: KeyUse, requestId: string): Promise<Attempt> {
    const target = routes.target(fields.key, use);
    if (!target || this.doorClosed(target.url)) return GATE;
    const write = fields.method !== 'GET';
    let answer: KvFrameAnswer;
    try {
      const payload = encodeKvFrameRequest(kvFrameRequest(fields, requestId, routes.ringVersion, body));
      answer = decodeKvFrameAnswer(await this.pool.call(target.url, FrameKind.typedKv, payload, this.timeoutMs));
    } catch (error) {
      if (!(error instanceof TransportError) && !(error instanceof KvFrameError)) throw error;
      const sentNothing = error instanceof TransportError && error.failure === 'refused';
      if (sentNothing && error.cause instanceof UpgradeRefusedError) {
        this.closedDoors.set(target.url, Date.now() + CLOSED_DOOR_RECHECK_MS);
        return GATE;
      }
      if (write && !sentNothing) {
        throw new KvError('TIMEOUT', `${target.url} gave no usable answer after the request was sent (${error.message}); the write's outcome is unknown`, { cause: error });
      }
      this.cache.invalidate();
      return GATE;
    }
    if (answer.ok) return { kind: 'answer', answer: { host: target.url, body: answer.body, version: answer.version, partition: target.partition, replica: answer.replica ?? null } };
    if (!mayRepeat(answer.error, write)) throw answer.error;
    return { kind: 'refused', error: answer.error, routingVersion: answer.routingVersion, partition: target.partition };
  }

  private doorClosed(url: string): boolean {
    const until = this.closedDoors.get(url);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.closedDoors.delete(url);
    return false;
  }

  stop(): void {
    this.cache.stop();
    void this.pool.close();
  }
}
