import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CachedValue } from '../src/ui/cached-value';

/** A build that counts its runs and finishes when the test says. */
function controlledBuild() {
  const pending: { resolve: (value: number) => void; reject: (error: Error) => void }[] = [];
  let builds = 0;
  return {
    get builds() {
      return builds;
    },
    build: () =>
      new Promise<number>((resolve, reject) => {
        builds++;
        pending.push({ resolve, reject });
      }),
    finish(value: number) {
      pending.shift()!.resolve(value);
    },
    fail(error: Error) {
      pending.shift()!.reject(error);
    },
  };
}

describe('CachedValue', () => {
  it('builds once for many concurrent callers, and they all get that build', async () => {
    const clock = { now: 0 };
    const source = controlledBuild();
    const cached = new CachedValue(source.build, 1000, () => clock.now);
    const callers = Array.from({ length: 100 }, () => cached.get());
    assert.equal(source.builds, 1);
    source.finish(7);
    assert.deepEqual(await Promise.all(callers), Array(100).fill(7));
  });

  it('builds at most once a second, however many calls come in that second', async () => {
    const clock = { now: 0 };
    let builds = 0;
    const cached = new CachedValue(async () => ++builds, 1000, () => clock.now);
    for (clock.now = 0; clock.now < 5000; clock.now += 10) {
      const values = await Promise.all([cached.get(), cached.get(), cached.get()]);
      assert.equal(new Set(values).size, 1);
    }
    assert.equal(builds, 5);
    // The last build started at 4000.
    clock.now = 4999;
    assert.equal(await cached.get(), 5);
    clock.now = 5000;
    assert.equal(await cached.get(), 6);
  });

  it('waits for a build still running past the age, rather than start a second one', async () => {
    const clock = { now: 0 };
    const source = controlledBuild();
    const cached = new CachedValue(source.build, 1000, () => clock.now);
    const first = cached.get();
    clock.now = 5000;
    const late = cached.get();
    assert.equal(source.builds, 1);
    source.finish(1);
    assert.equal(await first, 1);
    assert.equal(await late, 1);
    // Settled and older than the age: the next call builds again.
    const next = cached.get();
    assert.equal(source.builds, 2);
    source.finish(2);
    assert.equal(await next, 2);
  });

  it('does not keep a failed build: its waiters see the error, the next caller builds again', async () => {
    const clock = { now: 0 };
    const source = controlledBuild();
    const cached = new CachedValue(source.build, 1000, () => clock.now);
    const waiters = [cached.get(), cached.get()];
    source.fail(new Error('replica status timed out'));
    for (const waiter of waiters) await assert.rejects(waiter, /replica status timed out/);
    const retry = cached.get();
    assert.equal(source.builds, 2);
    source.finish(3);
    assert.equal(await retry, 3);
  });
});
