import { KvError } from '@kvstore/protocol';
import type { Principal } from '@kvstore/cluster';
import { bearerToken } from '@kvstore/cluster';
import { ClientLimiter } from './client-limiter';
import { TooManyRequests } from './request-limits';

/** `--max-failed-logins` per `--failed-login-window`; 0 failures: no limit. */
export interface FailedLoginLimits {
  maxFailures: number;
  windowS: number;
}

/** The authenticator this wraps: a remembered token costs a map lookup, any other one a scrypt. */
export interface TokenChecker {
  authenticate(authorization: string | undefined): Promise<Principal>;
  remembered(authorization: string | undefined): Principal | undefined;
}

export interface FailedLoginLogger {
  warn(object: object, message: string): void;
}

/**
 * Limits failed logins per address: each token that fails (malformed, an
 * unknown id, a wrong secret; not a request without one) takes one from the
 * address's bucket of `maxFailures`, refilled over `windowS`. An address
 * with an empty bucket is refused 429 before its token is checked, so it
 * costs the gate no scrypt; a token already verified (in the authenticator's
 * memory) still gets in, so a client with a good token behind the same
 * address is not locked out by one with a bad one. Logged once per window
 * per address, without the token.
 */
export class FailedLogins {
  private readonly limiter: ClientLimiter;
  /** When each refused address was last logged, ms; entries older than the window are dropped. */
  private readonly logged = new Map<string, number>();

  constructor(
    private readonly limits: FailedLoginLimits,
    private readonly checker: TokenChecker,
    /** Milliseconds, monotonic. */
    private readonly now: () => number,
    private readonly logger?: FailedLoginLogger,
    private readonly onRefused?: () => void,
  ) {
    this.limiter = new ClientLimiter({ ratePerS: limits.maxFailures / limits.windowS, burst: limits.maxFailures, maxInFlight: 0 }, now);
  }

  async authenticate(authorization: string | undefined, address = 'unknown'): Promise<Principal> {
    const remembered = this.checker.remembered(authorization);
    if (remembered !== undefined) return remembered;
    const refusal = this.limiter.peek(address);
    if (refusal !== undefined) {
      this.refused(address, refusal.retryAfterS);
      throw new TooManyRequests({ reason: 'failed_logins', retryAfterS: refusal.retryAfterS });
    }
    try {
      return await this.checker.authenticate(authorization);
    } catch (error) {
      if (error instanceof KvError && error.code === 'UNAUTHENTICATED' && bearerToken(authorization) !== undefined) this.failed(address);
      throw error;
    }
  }

  /** One failure taken from the address's bucket (admitted and at once released: nothing stays in flight). */
  private failed(address: string): void {
    if (this.limiter.admit(address) === undefined) this.limiter.release(address);
  }

  private refused(address: string, retryAfterS: number): void {
    this.onRefused?.();
    const now = this.now();
    const windowMs = this.limits.windowS * 1000;
    const last = this.logged.get(address);
    if (last !== undefined && now - last < windowMs) return;
    for (const [other, at] of this.logged) if (now - at >= windowMs) this.logged.delete(other);
    this.logged.set(address, now);
    const { maxFailures, windowS } = this.limits;
    this.logger?.warn({ address, maxFailures, windowS, retryAfterS }, 'failed logins limited: refusing this address 429 (logged once per window)');
  }
}
