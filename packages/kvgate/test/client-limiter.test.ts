import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientLimiter, type ClientLimits } from '../src/limits/client-limiter';

/** A limiter on a clock the test moves. */
function limiterAt(limits: ClientLimits): { limiter: ClientLimiter; advance(ms: number): void } {
  let now = 1_000;
  return { limiter: new ClientLimiter(limits, () => now), advance: (ms) => (now += ms) };
}

/** Admits `count` requests of `client`, releasing each; returns how many were admitted. */
function admitted(limiter: ClientLimiter, client: string, count: number): number {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    if (limiter.admit(client) === undefined) {
      ok++;
      limiter.release(client);
    }
  }
  return ok;
}

describe('ClientLimiter', () => {
  it('admits a burst, then refuses with the seconds until a token is back', () => {
    const { limiter } = limiterAt({ ratePerS: 2, burst: 5, maxInFlight: 0 });
    assert.equal(admitted(limiter, 'a', 5), 5);
    assert.deepEqual(limiter.admit('a'), { reason: 'rate', retryAfterS: 1 });
  });

  it('refills at the rate, never past the burst', () => {
    const { limiter, advance } = limiterAt({ ratePerS: 10, burst: 3, maxInFlight: 0 });
    assert.equal(admitted(limiter, 'a', 3), 3);
    advance(200);
    assert.equal(admitted(limiter, 'a', 5), 2, '200 ms at 10/s is two requests');
    advance(60_000);
    assert.equal(admitted(limiter, 'a', 10), 3, 'an idle minute still buys only the burst');
  });

  it('rounds Retry-After up to whole seconds, at least one', () => {
    const { limiter } = limiterAt({ ratePerS: 0.25, burst: 1, maxInFlight: 0 });
    assert.equal(admitted(limiter, 'a', 1), 1);
    assert.deepEqual(limiter.admit('a'), { reason: 'rate', retryAfterS: 4 });
  });

  it('keeps a separate budget for each client', () => {
    const { limiter } = limiterAt({ ratePerS: 1, burst: 2, maxInFlight: 0 });
    assert.equal(admitted(limiter, 'a', 4), 2);
    assert.equal(admitted(limiter, 'b', 4), 2);
  });

  it('refuses past the in-flight limit until a request is released', () => {
    const { limiter } = limiterAt({ ratePerS: 0, burst: 1, maxInFlight: 2 });
    assert.equal(limiter.admit('a'), undefined);
    assert.equal(limiter.admit('a'), undefined);
    assert.deepEqual(limiter.admit('a'), { reason: 'in_flight', retryAfterS: 1 });
    assert.equal(limiter.admit('b'), undefined, 'another client is not held up');
    limiter.release('a');
    assert.equal(limiter.admit('a'), undefined);
  });

  it('spends no token on a request refused for being in flight', () => {
    const { limiter } = limiterAt({ ratePerS: 1, burst: 1, maxInFlight: 1 });
    assert.equal(limiter.admit('a'), undefined);
    assert.equal(limiter.admit('a')?.reason, 'in_flight');
    limiter.release('a');
    assert.equal(limiter.admit('a')?.reason, 'rate', 'the one token went to the first request');
  });

  it('forgets idle clients, but not those with requests in flight', () => {
    const { limiter, advance } = limiterAt({ ratePerS: 100, burst: 10, maxInFlight: 5 });
    for (let i = 0; i < 50; i++) admitted(limiter, `idle-${i}`, 1);
    assert.equal(limiter.admit('busy'), undefined);
    advance(60_000);
    assert.equal(admitted(limiter, 'new', 1), 1);
    assert.equal(limiter.tracked, 2, 'only busy and new remain');
    limiter.release('busy');
  });

  it('asserts on a release without an admit', () => {
    const { limiter } = limiterAt({ ratePerS: 1, burst: 1, maxInFlight: 0 });
    assert.throws(() => limiter.release('nobody'), /release without admit/);
  });
});
