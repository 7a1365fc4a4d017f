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
import type { KeyUse } from './direct-routes';
import type { RouteCache } from './route-cache';

/**
 * A replica that turned the door away (404: from before the door, in a
 * rolling upgrade; 401: not for this token) is asked again after this;
 * until then its keys go through the gates, and the table stays good for
 * the others.
 */
const CLOSED_DOOR_RECHECK_MS = 30_000;

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
 * but a replica whose door turns the connection away leaves the table
 * good and is skipped for a while (CLOSED_DOOR_RECHECK_MS); a write that
 * may have arrived is never sent again (TIMEOUT), and every other answer
 * is the request's answer, as through a gate.
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
    const target = routes?.target(fields.key, use);
    if (!routes || !target || this.doorClosed(target.url)) return undefined;
    const write = fields.method !== 'GET';
    let answer: KvFrameAnswer;
    try {
      const payload = encodeKvFrameRequest(kvFrameRequest(fields, newRequestId(), routes.ringVersion, body));
      answer = decodeKvFrameAnswer(await this.pool.call(target.url, FrameKind.typedKv, payload, this.timeoutMs));
    } catch (error) {
      if (!(error instanceof TransportError) && !(error instanceof KvFrameError)) throw error;
      const sentNothing = error instanceof TransportError && error.failure === 'refused';
      if (sentNothing && error.cause instanceof UpgradeRefusedError) {
        this.closedDoors.set(target.url, Date.now() + CLOSED_DOOR_RECHECK_MS);
        return undefined;
      }
      if (write && !sentNothing) {
        throw new KvError('TIMEOUT', `${target.url} gave no usable answer after the request was sent (${error.message}); the write's outcome is unknown`, { cause: error });
      }
      this.cache.invalidate();
      return undefined;
    }
    if (answer.ok) return { host: target.url, body: answer.body, version: answer.version, partition: target.partition, replica: answer.replica ?? null };
    if (!mayRepeat(answer.error, write)) throw answer.error;
    // A WRONG_PARTITION names the ring the replica judged by: only a newer one than ours makes our table wrong.
    this.cache.invalidate(answer.error.code === 'WRONG_PARTITION' ? answer.routingVersion : undefined);
    return undefined;
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
