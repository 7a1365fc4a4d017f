/**
 * `refused`: the request never left this process (no connection could be
 * made, or it broke before the request was written), so retrying cannot
 * apply anything twice. `unknown-outcome`: it was written and no answer
 * came (connection lost, or timeout); a write must not be retried.
 * `failed`: the peer answered that its handler failed.
 */
export type MuxFailure = 'refused' | 'unknown-outcome' | 'failed';

export class MuxError extends Error {
  constructor(
    readonly failure: MuxFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MuxError';
  }
}
