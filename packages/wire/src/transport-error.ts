/**
 * How a request to another process failed, for whoever decides whether to
 * retry it (the gate's forwarder, the leader's replicators).
 * `refused`: the request never left this process (no connection could be
 * made, or it broke before the request was written), so retrying cannot
 * apply anything twice. `unknown-outcome`: it was written and no usable
 * answer came (connection lost, timeout, or the peer's handler failed); a
 * write must not be retried.
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

/** The replica answered the connection's upgrade with something other than 101: no such door there (404, a replica from before it), or not for these credentials (401). */
export class UpgradeRefusedError extends Error {
  override name = 'UpgradeRefusedError';

  constructor(statusLine: string) {
    super(`upgrade refused: ${statusLine}`);
  }
}
