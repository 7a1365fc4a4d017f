/**
 * Bearer tokens: `<id>.<secret>`, both base64url. The id finds the user
 * without trying every hash; the secret is checked against its scrypt hash
 * with a per-token salt, so the tokens never rest anywhere but with their
 * holders. The secret has 256 random bits, so scrypt's default cost is
 * ample; what it stops is a read of ZooKeeper turning into tokens.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { UserToken } from '@kvstore/protocol';

const scryptAsync = promisify(scrypt) as (secret: string, salt: Buffer, keyLength: number) => Promise<Buffer>;
const HASH_BYTES = 32;
const ID = /^[A-Za-z0-9_-]{16}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface ParsedToken {
  id: string;
  secret: string;
}

/** The token's id and secret; undefined for anything that is not shaped like a token. */
export function parseToken(token: string): ParsedToken | undefined {
  const dot = token.indexOf('.');
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  return dot > 0 && ID.test(id) && SECRET.test(secret) ? { id, secret } : undefined;
}

/** A new token, and what the user record keeps of it. */
export async function issueToken(now: number, expiresAt?: number): Promise<{ token: string; stored: UserToken }> {
  const id = randomBytes(12).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, HASH_BYTES);
  const stored: UserToken = { id, salt: salt.toString('base64url'), hash: hash.toString('base64url'), createdAt: now };
  return { token: `${id}.${secret}`, stored: expiresAt === undefined ? stored : { ...stored, expiresAt } };
}

/** Whether `secret` is the one `stored` was made from; constant time in the comparison. */
export async function verifySecret(secret: string, stored: UserToken): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64url');
  if (expected.length !== HASH_BYTES) return false;
  const actual = await scryptAsync(secret, Buffer.from(stored.salt, 'base64url'), HASH_BYTES);
  return timingSafeEqual(actual, expected);
}

/** What the verified-token cache is keyed by: cheap next to scrypt, and no token kept in memory as such. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The token of `Authorization: Bearer <token>`; undefined without one, or with another scheme. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  return match?.[1];
}
