import { FrameKind, MuxError, MuxPool, decodeKvAnswer, encodeKvRequest } from '@kvstore/topology';
import { TransportError, type DataTransport, type TransportRequest, type TransportResponse } from './transport';

export interface MuxTransportOptions {
  /** Bound on establishing a connection; a connect timeout is a safe `refused`. */
  connectTimeoutMs?: number;
  /** Connections per replica; each carries any number of requests at once. */
  connectionsPerOrigin?: number;
}

/**
 * The gate's data path over the internal protocol: every request to a
 * replica shares a few persistent connections, many requests per packet,
 * values as raw bytes. A request the connection never carried is `refused`;
 * one it carried without an answer is `unknown-outcome`.
 */
export class MuxTransport implements DataTransport {
  private readonly pool: MuxPool;

  constructor(options: MuxTransportOptions = {}) {
    this.pool = new MuxPool(options);
  }

  async request(request: TransportRequest): Promise<TransportResponse> {
    const payload = encodeKvRequest({ method: request.method, path: request.path, headers: request.headers, body: request.body ?? EMPTY });
    try {
      return decodeKvAnswer(await this.pool.call(request.url, FrameKind.kv, payload, request.timeoutMs));
    } catch (error) {
      if (!(error instanceof MuxError)) throw error;
      const target = `${request.method} ${request.url}${request.path}`;
      // A handler that failed (a frame it could not read) may be a server this gate does not understand: not safe to retry a write.
      const failure = error.failure === 'refused' ? 'refused' : 'unknown-outcome';
      throw new TransportError(failure, `${target}: ${error.message}`, { cause: error });
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

const EMPTY: Buffer = Buffer.alloc(0);
