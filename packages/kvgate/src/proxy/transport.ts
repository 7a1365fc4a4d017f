/**
 * The seam between the forwarder and the wire. The forwarder only needs one
 * request/answer exchange and to know, when it fails (a TransportError),
 * whether the request can have reached a server. MuxTransport is the real
 * one; MemoryTransport plays it in tests.
 */

export interface TransportRequest {
  /** The replica's base url, e.g. `http://127.0.0.1:4001`. */
  url: string;
  method: 'GET' | 'PUT' | 'DELETE';
  /** Path and query, e.g. `/v1/kv/a%20b?ttl=5`. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  /** The `/ring` version the request was routed with, for the replica to judge it by. */
  routingVersion?: number;
}

export interface TransportResponse {
  status: number;
  /** Lower-case header names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

export { TransportError, type TransportFailure } from '@kvstore/cluster';

export interface DataTransport {
  request(request: TransportRequest): Promise<TransportResponse>;
  close(): Promise<void>;
}
