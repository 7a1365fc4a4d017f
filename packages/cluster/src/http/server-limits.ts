import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ClusterTls } from '../tls/cluster-tls';

/**
 * What every listener of kvgate and kvserver enforces before a request
 * reaches its handler (docs/security.md, "Limits"). Bodies have their own
 * limits where they are read (`--max-value-bytes`, the JSON routes' caps).
 */
export interface ServerLimits {
  /** Request line and headers together; past it node answers 431 and closes. */
  maxHeaderBytes: number;
  /** From a connection's first byte (or its last request) to the end of the headers; past it 408 and close (slow loris). */
  headersTimeoutMs: number;
  /** The whole request, body included; past it 408 and close. */
  requestTimeoutMs: number;
}

/** Node's own checking interval is 30 s: a timeout of a few seconds needs a finer one. */
function checkingIntervalMs(limits: ServerLimits): number {
  return Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
}

/**
 * An HTTP server with `limits` set, not yet listening; the internal
 * protocol's upgrade is held to the same header limits. With `secure`, an
 * HTTPS server on the cluster's certificate (`askPeers`: ask clients for a
 * certificate, as a replica does for its internal routes), given every
 * reloaded certificate.
 */
export function createLimitedServer(listener: RequestListener, limits: ServerLimits, secure?: { tls: ClusterTls; askPeers: boolean }): Server {
  const options = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs(limits),
  };
  if (!secure) return createServer(options, listener);
  return secure.tls.serve(createHttpsServer({ ...options, ...secure.tls.serverOptions(secure.askPeers) }, listener));
}
