import { randomBytes } from 'node:crypto';
import { isWellFormedRequestId } from '@kvstore/protocol';

/**
 * Request ids (X-Request-Id): a client's own when it is well-formed, else
 * one made here. Made ids are this process's random prefix and a counter,
 * unique enough to find a request's lines in the logs and cheap enough for
 * every request of the data path.
 */

const PREFIX = randomBytes(6).toString('base64url');
let made = 0;

/** A new id, `<prefix>-<counter in base 36>`. */
export function newRequestId(): string {
  made += 1;
  return `${PREFIX}-${made.toString(36)}`;
}

/** The id a request goes by: the one it came with when well-formed (a repeated header never is), else a new one. */
export function requestIdFor(offered: string | string[] | undefined): string {
  return typeof offered === 'string' && isWellFormedRequestId(offered) ? offered : newRequestId();
}
