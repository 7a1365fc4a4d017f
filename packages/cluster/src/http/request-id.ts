import { randomBytes } from 'node:crypto';

/**
 * Request ids (X-Request-Id): a client's own when it is well-formed, else
 * one made here. Made ids are this process's random prefix and a counter,
 * unique enough to find a request's lines in the logs and cheap enough for
 * every request of the data path.
 */

/** Long enough for a UUID, a W3C traceparent or a prefixed id; short enough to log. */
export const MAX_REQUEST_ID_LENGTH = 128;

/** Printable ASCII without spaces: safe in a header, a log line and a JSON body as given. */
const WELL_FORMED = /^[\x21-\x7e]+$/;

const PREFIX = randomBytes(6).toString('base64url');
let made = 0;

export function isWellFormedRequestId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_REQUEST_ID_LENGTH && WELL_FORMED.test(value);
}

/** A new id, `<prefix>-<counter in base 36>`. */
export function newRequestId(): string {
  made += 1;
  return `${PREFIX}-${made.toString(36)}`;
}

/** The id a request goes by: the one it came with when well-formed (a repeated header never is), else a new one. */
export function requestIdFor(offered: string | string[] | undefined): string {
  return typeof offered === 'string' && isWellFormedRequestId(offered) ? offered : newRequestId();
}
