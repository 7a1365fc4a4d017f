import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../src/testing/manual-clock';

describe('ManualClock', () => {
  it('fires due timers in due order (ties in the order set), each at its due time', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    const note = (name: string) => () => fired.push(`${name}@${clock.now()}`);
    clock.setTimeout(note('late'), 30);
    clock.setTimeout(note('first'), 10);
    clock.setTimeout(note('tie'), 10);
    clock.advance(20);
    assert.deepEqual(fired, ['first@1010', 'tie@1010']);
    assert.equal(clock.now(), 1020);
    clock.advance(10);
    assert.deepEqual(fired, ['first@1010', 'tie@1010', 'late@1030']);
  });

  it('fires timers set by a timer when they fall due within the same advance', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 5), 5);
    clock.advance(9);
    assert.deepEqual(fired, []);
    clock.advance(1);
    assert.deepEqual(fired, [10]);
  });

  it('does not fire a cleared timer', () => {
    const clock = new ManualClock(0);
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 1);
    clock.clearTimeout(handle);
    clock.advance(5);
    assert.equal(fired, false);
    assert.equal(clock.pendingTimers, 0);
  });

  it('runs every timer with runAll, and refuses to spin on a timer that re-arms forever', () => {
    const clock = new ManualClock(0);
    let count = 0;
    clock.setTimeout(() => count++, 100);
    clock.setTimeout(() => count++, 5000);
    clock.runAll();
    assert.deepEqual([count, clock.now(), clock.pendingTimers], [2, 5000, 0]);
    const rearm = (): void => void clock.setTimeout(rearm, 1);
    rearm();
    assert.throws(() => clock.runAll(50), /after 50 steps/);
  });
});
