import { type KvFrameAnswer, type KvFrameRequest } from '@kvstore/wire';
/**
 * The seam between the forwarder and the wire. The forwarder only needs one
 * request/answer exchange, in the kv frame's typed fields, and to know, when
 * it fails (a TransportError), whether the request can have reached a
 * server. MuxTransport is the real one; MemoryTransport plays it in tests.
 */


export interface TransportRequest extends KvFrameRequest {
  /** The replica's base url, e.g. `http://127.0.0.1:4001`. */
  url: string;
  /** The replica's id, for messages. */
  replica: string;
  timeoutMs: number;
}

export type TransportResponse = KvFrameAnswer;

export { TransportError, type TransportFailure } from '@kvstore/wire';

export interface DataTransport {
  request(request: TransportRequest): Promise<TransportResponse>;
  close(): Promise<void>;
}
