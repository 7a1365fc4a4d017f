import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UserRecord } from '@kvstore/protocol';
import { Authenticator, type UserSource } from '../src/auth/authenticator';
import { issueToken } from '../src/auth/tokens';
import type { TokenOwner } from '../src/auth/user-directory';

/** Users in a map, counting the token lookups that cost a verification. */
class Users implements UserSource {
  readonly records = new Map<string, UserRecord>();
  lookups = 0;
  record(user: string): UserRecord | undefined {
    return this.records.get(user);
  }
  owner(tokenId: string): TokenOwner | undefined {
    this.lookups++;
    for (const [user, record] of this.records) {
      const token = record.tokens.find((candidate) => candidate.id === tokenId);
      if (token) return { user, record, token };
    }
    return undefined;
  }
}

function logged() {
  const lines: { object: object; message: string }[] = [];
  return { lines, warn: (object: object, message: string) => void lines.push({ object, message }) };
}

async function setUp() {
  const users = new Users();
  const issued = await issueToken(0);
  users.records.set('alice', { grants: [{ role: 'readwrite' }], tokens: [issued.stored] });
  const log = logged();
  return { users, log, token: issued.token, authenticator: new Authenticator(users, log) };
}

const bearer = (token: string): string => `Bearer ${token}`;

describe('Authenticator', () => {
  it('proves a token once, then answers from its cache while the user record stays the same', async () => {
    const { users, authenticator, token } = await setUp();
    assert.deepEqual(await authenticator.authenticate(bearer(token)), { user: 'alice', grants: [{ role: 'readwrite' }] });
    await authenticator.authenticate(bearer(token));
    await authenticator.authenticate(bearer(token));
    assert.equal(users.lookups, 1);
  });

  it('verifies a token again once its user record changes, and sees the new grants', async () => {
    const { users, authenticator, token } = await setUp();
    await authenticator.authenticate(bearer(token));
    const record = users.records.get('alice')!;
    users.records.set('alice', { ...record, grants: [{ role: 'read', prefixes: ['a/'] }] });
    assert.deepEqual((await authenticator.authenticate(bearer(token))).grants, [{ role: 'read', prefixes: ['a/'] }]);
    assert.equal(users.lookups, 2);
  });

  it('refuses a cached token at once when its user is removed', async () => {
    const { users, authenticator, token } = await setUp();
    await authenticator.authenticate(bearer(token));
    users.records.delete('alice');
    await assert.rejects(authenticator.authenticate(bearer(token)), { code: 'UNAUTHENTICATED' });
  });

  it('refuses no token, another scheme, a malformed token, an unknown id and a wrong secret with UNAUTHENTICATED', async () => {
    const { authenticator, token } = await setUp();
    const [id, secret] = token.split('.') as [string, string];
    const wrongSecret = `${id}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    const unknownId = `${'Z'.repeat(16)}.${secret}`;
    for (const header of [undefined, 'Basic abc', 'Bearer nonsense', bearer(unknownId), bearer(wrongSecret)]) {
      await assert.rejects(authenticator.authenticate(header), { code: 'UNAUTHENTICATED' }, String(header));
    }
  });

  it('logs a failed login with the token id at most, never the token or its secret', async () => {
    const { authenticator, token, log } = await setUp();
    const [id, secret] = token.split('.') as [string, string];
    const wrong = `${id}.${'x'.repeat(43)}`;
    await assert.rejects(authenticator.authenticate(bearer(wrong)));
    assert.equal(log.lines.length, 1);
    const line = JSON.stringify(log.lines[0]);
    assert.match(line, /wrong secret/);
    assert.ok(line.includes(id));
    assert.ok(!line.includes('x'.repeat(43)) && !line.includes(secret));
  });

  it('runs one verification for many requests carrying the same new token', async () => {
    const { users, authenticator, token } = await setUp();
    await Promise.all(Array.from({ length: 5 }, () => authenticator.authenticate(bearer(token))));
    assert.equal(users.lookups, 1);
  });

  it('refuses a token from its expiry on, remembered or not, and logs why', async () => {
    const users = new Users();
    const lasting = await issueToken(0);
    const expiring = await issueToken(0, 10_000);
    users.records.set('alice', { grants: [{ role: 'read' }], tokens: [lasting.stored, expiring.stored] });
    let now = 0;
    const log = logged();
    const authenticator = new Authenticator(users, log, () => now);
    assert.equal((await authenticator.authenticate(bearer(expiring.token))).user, 'alice');
    assert.equal(authenticator.remembered(bearer(expiring.token))?.user, 'alice');
    now = 10_000;
    assert.equal(authenticator.remembered(bearer(expiring.token)), undefined);
    await assert.rejects(authenticator.authenticate(bearer(expiring.token)), { code: 'UNAUTHENTICATED' });
    assert.match(JSON.stringify(log.lines), /token expired/);
    assert.equal((await authenticator.authenticate(bearer(lasting.token))).user, 'alice', 'the other token still works');
  });
});
