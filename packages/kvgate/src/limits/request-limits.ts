import type { IncomingMessage } from 'node:http';
import { KvError } from '@kvstore/protocol';
import type { RequestHandler } from 'express';
import { principalOf } from '../auth/access-guard';
import type { Principal } from '@kvstore/cluster';
import type { ClientLimiter, LimitReason } from './client-limiter';

/** Why a request was refused 429: a client's limits, or its address's failed logins (failed-logins.ts). */
export type RefusalReason = LimitReason | 'failed_logins';

const REFUSED_FOR: Record<RefusalReason, string> = {
  rate: "over this client's limit of request rate",
  in_flight: "over this client's limit of requests in flight",
  failed_logins: 'too many failed logins from this address',
};

/** TOO_MANY_REQUESTS with the seconds its Retry-After header says. */
export class TooManyRequests extends KvError {
  readonly retryAfterS: number;

  constructor(refusal: { reason: RefusalReason; retryAfterS: number }) {
    super('TOO_MANY_REQUESTS', `${REFUSED_FOR[refusal.reason]}; try again in ${refusal.retryAfterS} s`);
    this.retryAfterS = refusal.retryAfterS;
  }
}

/** RFC 9110 10.2.3: a 429 says when to come back. */
export function retryAfterHeaders(error: unknown): Record<string, string> {
  return error instanceof TooManyRequests ? { 'retry-after': String(error.retryAfterS) } : {};
}

/**
 * Whom a request counts against: with `--auth on` its user (every request
 * that gets this far is authenticated), else the address it came from.
 */
export function clientOf(request: IncomingMessage, principal: Principal | undefined): string {
  return principal?.user ?? request.socket.remoteAddress ?? 'unknown';
}

/** The gate's per-client limits: admits a request or throws TooManyRequests, counting each refusal. */
export class RequestLimits {
  constructor(
    private readonly limiter: ClientLimiter,
    private readonly onRefused: (reason: LimitReason) => void,
  ) {}

  /** Admits a request of `client`, who must be released once it is answered; throws TooManyRequests. */
  admit(client: string): void {
    const refusal = this.limiter.admit(client);
    if (refusal === undefined) return;
    this.onRefused(refusal.reason);
    throw new TooManyRequests(refusal);
  }

  release(client: string): void {
    this.limiter.release(client);
  }

  /** For the express routes: after authentication, before anything is read. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const client = clientOf(req, principalOf(res));
      this.admit(client);
      // 'close' comes after the answer, or instead of it when the client went away.
      res.once('close', () => this.release(client));
      next();
    };
  }
}
