import { FrameKind, MuxPool, decodeKvAnswer, encodeKvRequest, type MuxPoolOptions } from '@kvstore/cluster';
import type { DataTransport, TransportRequest, TransportResponse } from './transport';

/**
 * The gate's data path over the internal protocol: every request to a
 * replica shares a few persistent connections, many requests per packet,
 * values as raw bytes. A request the connection never carried is `refused`;
 * one it carried without an answer is `unknown-outcome`.
 */
export class MuxTransport implements DataTransport {
  private readonly pool: MuxPool;

  constructor(options: MuxPoolOptions) {
    this.pool = new MuxPool(options);
  }

  async request(request: TransportRequest): Promise<TransportResponse> {
    const payload = encodeKvRequest({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body ?? EMPTY,
      routingVersion: request.routingVersion,
    });
    return decodeKvAnswer(await this.pool.call(request.url, FrameKind.kv, payload, request.timeoutMs));
  }

  /** Open connections per replica url. */
  connectionCounts(): Map<string, number> {
    return this.pool.connectionCounts();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

const EMPTY: Buffer = Buffer.alloc(0);
