import { unauthenticated, type UserRecord } from '@kvstore/protocol';
import { LRUCache } from 'lru-cache';
import type { Principal } from './permissions';
import { bearerToken, parseToken, tokenDigest, verifySecret } from './tokens';
import type { TokenOwner } from './user-directory';

/** Tokens verified recently; a gate sees few distinct ones, and a miss costs one scrypt. */
const CACHE_ENTRIES = 10_000;

/** Where the authenticator looks users up: the watched UserDirectory, or a map in tests. */
export interface UserSource {
  record(user: string): UserRecord | undefined;
  owner(tokenId: string): TokenOwner | undefined;
}

export interface FailedLoginLogger {
  warn(object: object, message: string): void;
}

interface Verified {
  user: string;
  /** The record the token was verified against: once the user's record is another object, the entry is stale. */
  record: UserRecord;
  /** The token's expiry, ms since the epoch; Infinity: never. */
  expiresAt: number;
}

/**
 * Turns an `Authorization` header into the Principal it proves, or throws
 * UNAUTHENTICATED. A token verified once is remembered, keyed by its
 * SHA-256, for as long as its user's record stays the same object: any
 * change of the user (a grant, a revoke, removal) costs one scrypt again,
 * and a removed or expired token fails at once.
 */
export class Authenticator {
  private readonly verified = new LRUCache<string, Verified>({ max: CACHE_ENTRIES });
  /** One scrypt per token at a time, however many requests carry it. */
  private readonly pending = new Map<string, Promise<Verified | undefined>>();

  constructor(
    private readonly users: UserSource,
    private readonly logger?: FailedLoginLogger,
    /** Wall clock, ms since the epoch: tokens expire at a time of day. */
    private readonly now: () => number = Date.now,
  ) {}

  /** The Principal of a token verified before whose user has not changed since: no scrypt. */
  remembered(authorization: string | undefined): Principal | undefined {
    const token = bearerToken(authorization);
    const cached = token === undefined ? undefined : this.verified.get(tokenDigest(token));
    return cached && this.current(cached) ? { user: cached.user, grants: cached.record.grants } : undefined;
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = bearerToken(authorization);
    if (token === undefined) throw unauthenticated('this gate needs a token: Authorization: Bearer <token>');
    const digest = tokenDigest(token);
    const cached = this.verified.get(digest);
    if (cached && this.current(cached)) return { user: cached.user, grants: cached.record.grants };
    if (cached) this.verified.delete(digest);
    let verifying = this.pending.get(digest);
    if (!verifying) {
      verifying = this.verify(token).finally(() => this.pending.delete(digest));
      this.pending.set(digest, verifying);
    }
    const verified = await verifying;
    if (!verified) throw unauthenticated('the token is not valid');
    this.verified.set(digest, verified);
    return { user: verified.user, grants: verified.record.grants };
  }

  private async verify(token: string): Promise<Verified | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return this.failed('not a token', undefined);
    const owner = this.users.owner(parsed.id);
    if (!owner) return this.failed('no such token', parsed.id);
    const expiresAt = owner.token.expiresAt ?? Infinity;
    if (expiresAt <= this.now()) return this.failed('token expired', parsed.id, owner.user);
    if (!(await verifySecret(parsed.secret, owner.token))) return this.failed('wrong secret', parsed.id, owner.user);
    return { user: owner.user, record: owner.record, expiresAt };
  }

  /** Its user's record unchanged, and the token not expired. */
  private current(verified: Verified): boolean {
    return this.users.record(verified.user) === verified.record && verified.expiresAt > this.now();
  }

  /** Logs the token's id at most, never the token. */
  private failed(reason: string, tokenId: string | undefined, user?: string): undefined {
    this.logger?.warn({ reason, tokenId, user }, 'authentication failed');
    return undefined;
  }
}
