/**
 * The seam between the forwarder and the wire. The forwarder only needs one
 * request/answer exchange and to know, when it fails, whether the request can
 * have reached a server; a later multiplexed protocol replaces the HTTP
 * implementation without touching the forwarder.
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
}

export interface TransportResponse {
  status: number;
  /** Lower-case header names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * `refused`: the request never reached a server (connection refused, host
 * unreachable, connect timeout), so retrying cannot apply anything twice.
 * `unknown-outcome`: the request may have been received (reset or timeout
 * after sending); a write must not be retried.
 */
export type TransportFailure = 'refused' | 'unknown-outcome';

export class TransportError extends Error {
  constructor(
    readonly failure: TransportFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

export interface DataTransport {
  request(request: TransportRequest): Promise<TransportResponse>;
  close(): Promise<void>;
}
