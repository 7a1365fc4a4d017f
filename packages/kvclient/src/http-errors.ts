/**
 * A request to a gate that got no answer (refused, reset, timed out), and
 * whether it certainly never reached the gate: only then may a write be sent
 * to another one. Error answers are @kvstore/protocol's errorFromAnswer.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { KvError, errorFromAnswer } from '@kvstore/protocol';
import { RetryLater } from './retry';

/** The error an answer that is not a success stands for; a 429 whose Retry-After can be read is a RetryLater. */
export function errorOf(status: number, headers: IncomingHttpHeaders, body: Buffer, host: string): KvError {
  const error = errorFromAnswer(status, body, host);
  const retryAfterMs = error.code === 'TOO_MANY_REQUESTS' ? retryAfterMsOf(headers['retry-after'], Date.now()) : undefined;
  return retryAfterMs === undefined ? error : new RetryLater(error, retryAfterMs);
}

const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** RFC 9110 10.2.3: whole seconds, or an HTTP date (IMF-fixdate); undefined for anything else. */
export function retryAfterMsOf(value: string | undefined, now: number): number | undefined {
  const trimmed = value?.trim();
  if (trimmed === undefined) return undefined;
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = IMF_FIXDATE.test(trimmed) ? Date.parse(trimmed) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

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
