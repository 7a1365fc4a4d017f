import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testClockOffset, wallClock } from '../src/clock';

describe('clock: the test-only offset (KV_TEST_CLOCK_OFFSET_MS)', () => {
  test('unset or empty: no offset, nothing said', () => {
    const said: string[] = [];
    assert.equal(testClockOffset(undefined, (m) => said.push(m)), 0);
    assert.equal(testClockOffset('  ', (m) => said.push(m)), 0);
    assert.deepEqual(said, []);
  });

  test('a whole number of milliseconds, either sign, is used and announced', () => {
    const said: string[] = [];
    assert.equal(testClockOffset('1500', (m) => said.push(m)), 1500);
    assert.equal(testClockOffset('-2000', (m) => said.push(m)), -2000);
    assert.equal(said.length, 2);
    assert.match(said[1], /off by -2000 ms \(test only\)/);
  });

  test('anything else is refused with a message and ignored', () => {
    for (const raw of ['1.5', '10s', 'abc', '1e3', '99999999999999999999']) {
      const said: string[] = [];
      assert.equal(testClockOffset(raw, (m) => said.push(m)), 0, raw);
      assert.match(said[0], /ignoring KV_TEST_CLOCK_OFFSET_MS=.*not a whole number/, raw);
    }
  });

  test('now() moves by the offset; timers do not', async () => {
    const ahead = wallClock(60_000);
    const delta = ahead.now() - Date.now();
    assert.ok(delta >= 59_990 && delta <= 60_000, `offset ${delta}`);
    const started = Date.now();
    // The clock's timers are unref'd: this one keeps the test alive while it waits.
    const keepAlive = setTimeout(() => undefined, 5000);
    await new Promise<void>((resolve) => ahead.setTimeout(resolve, 20));
    clearTimeout(keepAlive);
    assert.ok(Date.now() - started < 1000);
  });
});
