import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unauthenticated, type KvError } from '@kvstore/protocol';
import type { Principal } from '@kvstore/cluster';
import { bearerToken } from '@kvstore/cluster';
import { FailedLogins, type TokenChecker } from '../src/limits/failed-logins';
import { TooManyRequests } from '../src/limits/request-limits';

const GOOD = 'good-token';
const REMEMBERED = 'remembered-token';
const principal: Principal = { user: 'alice', grants: [{ role: 'read' }] };

/** 3 failures per 30 s on a clock the test moves; counts the tokens it checks (each a scrypt in the gate). */
function limited() {
  let now = 0;
  const checked: (string | undefined)[] = [];
  const checker: TokenChecker = {
    remembered: (authorization) => (bearerToken(authorization) === REMEMBERED ? principal : undefined),
    authenticate: async (authorization) => {
      checked.push(bearerToken(authorization));
      if (bearerToken(authorization) === GOOD) return principal;
      throw unauthenticated(authorization === undefined ? 'this gate needs a token' : 'the token is not valid');
    },
  };
  const logged: object[] = [];
  let refused = 0;
  const logins = new FailedLogins({ maxFailures: 3, windowS: 30 }, checker, () => now, { warn: (object) => logged.push(object) }, () => refused++);
  const attempt = (token: string | undefined, address: string): Promise<Principal> => logins.authenticate(token === undefined ? undefined : `Bearer ${token}`, address);
  return { attempt, checked, logged, refusals: () => refused, advance: (ms: number) => (now += ms) };
}

async function code(attempt: Promise<Principal>): Promise<string> {
  return attempt.then(
    () => 'OK',
    (error: KvError) => error.code,
  );
}

describe('failed logins per address', () => {
  it('refuses an address 429 after its failures, before checking its tokens, until the window gives one back', async () => {
    const { attempt, checked, advance, refusals } = limited();
    for (let n = 0; n < 3; n++) assert.equal(await code(attempt('wrong', '10.0.0.1')), 'UNAUTHENTICATED');
    const refusal = await attempt(GOOD, '10.0.0.1').catch((error: unknown) => error);
    assert.ok(refusal instanceof TooManyRequests);
    assert.equal(refusal.retryAfterS, 10, 'one failure earned back every 30 s / 3');
    assert.match(refusal.message, /^too many failed logins from this address; try again in 10 s$/);
    assert.equal(await code(attempt('wrong', '10.0.0.1')), 'TOO_MANY_REQUESTS');
    assert.equal(checked.length, 3, 'no token checked once the address is refused');
    assert.equal(refusals(), 2);

    advance(10_000);
    assert.equal(await code(attempt(GOOD, '10.0.0.1')), 'OK', 'a failure earned back lets a good token in');
    assert.equal(await code(attempt('wrong', '10.0.0.1')), 'UNAUTHENTICATED');
    assert.equal(await code(attempt('wrong', '10.0.0.1')), 'TOO_MANY_REQUESTS');
  });

  it('leaves other addresses, remembered tokens and requests without a token alone', async () => {
    const { attempt, checked } = limited();
    for (let n = 0; n < 4; n++) await attempt('wrong', '10.0.0.1').catch(() => undefined);
    assert.equal(await code(attempt(GOOD, '10.0.0.2')), 'OK', 'a valid token from elsewhere');
    assert.equal(await code(attempt('wrong', '10.0.0.2')), 'UNAUTHENTICATED', 'failures are counted per address');
    assert.equal(await code(attempt(REMEMBERED, '10.0.0.1')), 'OK', 'a token verified before, from the refused address');
    const before = checked.length;
    for (let n = 0; n < 5; n++) assert.equal(await code(attempt(undefined, '10.0.0.3')), 'UNAUTHENTICATED', 'no token is no failed login');
    assert.equal(await code(attempt(GOOD, '10.0.0.3')), 'OK');
    assert.equal(checked.length, before + 6);
  });

  it('logs a refused address once per window, without the token', async () => {
    const { attempt, logged, advance } = limited();
    for (let n = 0; n < 6; n++) await attempt('secret-wrong-token', '10.0.0.1').catch(() => undefined);
    for (let n = 0; n < 6; n++) await attempt('secret-wrong-token', '10.0.0.9').catch(() => undefined);
    assert.deepEqual(logged, [
      { address: '10.0.0.1', maxFailures: 3, windowS: 30, retryAfterS: 10 },
      { address: '10.0.0.9', maxFailures: 3, windowS: 30, retryAfterS: 10 },
    ]);
    advance(30_000);
    for (let n = 0; n < 4; n++) await attempt('secret-wrong-token', '10.0.0.1').catch(() => undefined);
    assert.equal(logged.length, 3, 'again after a window');
    assert.ok(!JSON.stringify(logged).includes('secret-wrong-token'));
  });
});
