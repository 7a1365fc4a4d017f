import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allows, type Principal } from '../src/auth/permissions';
import { bearerToken, issueToken, parseToken, tokenDigest, verifySecret } from '../src/auth/tokens';

describe('tokens', () => {
  it('issues <id>.<secret> and keeps only a salted hash: the secret verifies, another does not', async () => {
    const { token, stored } = await issueToken(1234);
    const parsed = parseToken(token);
    assert.ok(parsed);
    assert.equal(parsed.id, stored.id);
    assert.equal(stored.createdAt, 1234);
    assert.ok(!JSON.stringify(stored).includes(parsed.secret), 'the record holds no secret');
    assert.equal(await verifySecret(parsed.secret, stored), true);
    const other = parseToken((await issueToken(0)).token)!;
    assert.equal(await verifySecret(other.secret, stored), false);
  });

  it('salts every token: the same secret hashes differently, and a mangled hash verifies nothing', async () => {
    const [a, b] = await Promise.all([issueToken(0), issueToken(0)]);
    assert.notEqual(a.stored.salt, b.stored.salt);
    const secret = parseToken(a.token)!.secret;
    assert.equal(await verifySecret(secret, { ...a.stored, hash: 'short' }), false);
  });

  it('parses only the shape it issues', () => {
    assert.equal(parseToken(''), undefined);
    assert.equal(parseToken('no-dot'), undefined);
    assert.equal(parseToken('.abc'), undefined);
    assert.equal(parseToken(`${'a'.repeat(16)}.${'b'.repeat(42)}`), undefined);
    assert.equal(parseToken(`${'a'.repeat(16)}.${'b'.repeat(43)}x`), undefined);
    assert.deepEqual(parseToken(`${'a'.repeat(16)}.${'b'.repeat(43)}`), { id: 'a'.repeat(16), secret: 'b'.repeat(43) });
  });

  it('reads the bearer scheme only', () => {
    assert.equal(bearerToken(undefined), undefined);
    assert.equal(bearerToken('Basic dXNlcjpwYXNz'), undefined);
    assert.equal(bearerToken('Bearer'), undefined);
    assert.equal(bearerToken('Bearer abc.def'), 'abc.def');
    assert.equal(bearerToken('bearer  abc.def '), 'abc.def');
    assert.equal(bearerToken('Bearer a b'), undefined);
  });

  it('digests tokens into a cache key that is not the token', () => {
    assert.equal(tokenDigest('x.y'), tokenDigest('x.y'));
    assert.notEqual(tokenDigest('x.y'), tokenDigest('x.z'));
    assert.ok(!tokenDigest('x.y').includes('x.y'));
  });
});

describe('permissions', () => {
  const user = (...grants: Principal['grants']): Principal => ({ user: 'u', grants });
  const read = (key: string) => ({ kind: 'key', key, write: false }) as const;
  const write = (key: string) => ({ kind: 'key', key, write: true }) as const;

  it('read reads, readwrite also writes, admin does everything', () => {
    assert.equal(allows(user({ role: 'read' }), read('k')), true);
    assert.equal(allows(user({ role: 'read' }), write('k')), false);
    assert.equal(allows(user({ role: 'read' }), { kind: 'admin' }), false);
    assert.equal(allows(user({ role: 'readwrite' }), write('k')), true);
    assert.equal(allows(user({ role: 'readwrite' }), { kind: 'admin' }), false);
    assert.equal(allows(user({ role: 'admin' }), write('k')), true);
    assert.equal(allows(user({ role: 'admin' }), { kind: 'admin' }), true);
    assert.equal(allows(user(), read('k')), false, 'no grant, no access');
  });

  it('a prefix limit covers the keys that start with one of its prefixes, and no other', () => {
    const limited = user({ role: 'readwrite', prefixes: ['app/', 'shared-'] });
    assert.equal(allows(limited, write('app/x')), true);
    assert.equal(allows(limited, read('shared-y')), true);
    assert.equal(allows(limited, read('ap')), false);
    assert.equal(allows(limited, read('other/app/x')), false);
  });

  it('grants add up: read everywhere plus readwrite under a prefix', () => {
    const mixed = user({ role: 'read' }, { role: 'readwrite', prefixes: ['mine/'] });
    assert.equal(allows(mixed, read('anything')), true);
    assert.equal(allows(mixed, write('mine/a')), true);
    assert.equal(allows(mixed, write('yours/a')), false);
  });
});
