/**
 * Converting what comes back from a gate (an error answer, or a network
 * failure with no answer) into the shared KvError, once, at the edge.
 */
import { ERROR_CODES, KvError, errorFromBody, type ErrorCode } from '@kvstore/topology';

/** A code of our own for a connect that did not finish in time; nothing was sent. */
export const CONNECT_TIMEOUT_CODE = 'EKVCONNECTTIMEOUT';

/**
 * Failures that happen before a connection exists, so the request certainly
 * reached no gate and even a write may be sent to another one.
 */
const CONNECT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  CONNECT_TIMEOUT_CODE,
]);

export function isConnectError(error: unknown): boolean {
  return CONNECT_ERROR_CODES.has(networkErrorCode(error));
}

export function networkErrorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ERR_NETWORK';
}

/** The KvError for a non-2xx answer: the API's own error body, else a code picked by status. */
export function errorFromResponse(status: number, body: Buffer): KvError {
  const text = body.toString('utf8');
  const fromBody = errorFromBody(parseJson(text));
  if (fromBody) return fromBody;
  const detail = text.trim().slice(0, 200);
  return new KvError(codeForStatus(status), `HTTP ${status}${detail ? `: ${detail}` : ''}`);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function codeForStatus(status: number): ErrorCode {
  // ERROR_CODES is ordered so that 421 picks NOT_LEADER, the more common of its two codes.
  const match = (Object.keys(ERROR_CODES) as ErrorCode[]).find((code) => ERROR_CODES[code].status === status);
  if (match) return match;
  return status === 502 ? 'UNAVAILABLE' : 'INTERNAL';
}
