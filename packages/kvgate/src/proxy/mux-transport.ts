import { decodeKvAnswer, encodeKvRequest } from '@kvstore/cluster';
import { FrameKind, MuxPool, decodeKvFrameAnswer, encodeKvFrameRequest, type MuxPoolOptions } from '@kvstore/wire';
import { answerFromHttp, legacyKvRequest } from './legacy-kv';
import type { DataTransport, TransportRequest, TransportResponse } from './transport';

/**
 * The gate's data path over the internal protocol: every request to a
 * replica shares a few persistent connections, many requests per packet,
 * values as raw bytes, the request's fields as typed fields (or as a url
 * and headers to a replica that does not list the typed frame). A request
 * the connection never carried is `refused`; one it carried without an
 * answer is `unknown-outcome`.
 */
export class MuxTransport implements DataTransport {
  private readonly pool: MuxPool;

  constructor(options: MuxPoolOptions) {
    this.pool = new MuxPool(options);
  }

  async request(request: TransportRequest): Promise<TransportResponse> {
    let typed = true;
    const answer = await this.pool.callChoosing(
      request.url,
      (peerKinds) => {
        typed = peerKinds.has(FrameKind.typedKv);
        return typed ? { kind: FrameKind.typedKv, payload: encodeKvFrameRequest(request) } : { kind: FrameKind.kv, payload: encodeKvRequest(legacyKvRequest(request)) };
      },
      request.timeoutMs,
    );
    return typed ? decodeKvFrameAnswer(answer) : answerFromHttp(decodeKvAnswer(answer), `replica ${request.replica}`);
  }

  /** Open connections per replica url. */
  connectionCounts(): Map<string, number> {
    return this.pool.connectionCounts();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
