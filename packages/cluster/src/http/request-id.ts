import { isWellFormedRequestId, newRequestId } from '@kvstore/protocol';

/** The id a request goes by (X-Request-Id): the one it came with when well-formed (a repeated header never is), else a new one. */
export function requestIdFor(offered: string | string[] | undefined): string {
  return typeof offered === 'string' && isWellFormedRequestId(offered) ? offered : newRequestId();
}
