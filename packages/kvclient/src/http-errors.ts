/**
 * A request to a gate that got no answer (refused, reset, timed out), and
 * whether it certainly never reached the gate: only then may a write be sent
 * to another one. Error answers are @kvstore/protocol's errorFromAnswer.
 */
import { KvError } from '@kvstore/protocol';

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

/** A write that may have arrived and got no answer: sending it again could apply it twice, so its outcome is unknown. */
export function unknownOutcome(error: NoAnswer): KvError {
  return new KvError('TIMEOUT', `${error.host} gave no answer (${error.code}) after the request was sent; the write's outcome is unknown`, { cause: error });
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
