/**
 * A request to a gate that got no answer (refused, reset, timed out), and
 * whether it certainly never reached the gate: only then may a write be sent
 * to another one. Error answers are @kvstore/protocol's errorFromAnswer.
 */

/** A code of our own for a connect that did not finish in time; nothing was sent. */
export const CONNECT_TIMEOUT_CODE = 'EKVCONNECTTIMEOUT';

export class NoAnswer extends Error {
  override readonly name = 'NoAnswer';
  /** The Node error code (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...). */
  readonly code: string;

  constructor(
    readonly host: string,
    cause: unknown,
    /** The connection never opened, so not a byte of the request left this process. */
    readonly sentNothing: boolean,
  ) {
    const code = networkErrorCode(cause);
    super(`${host}: ${code}`, { cause });
    this.code = code;
  }
}

function networkErrorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ERR_NETWORK';
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
