import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationSeconds } from '../src/parsers';

test('--expires-in takes a whole number of seconds, minutes, hours or days', () => {
  assert.equal(durationSeconds('45'), 45);
  assert.equal(durationSeconds('45s'), 45);
  assert.equal(durationSeconds('30m'), 1800);
  assert.equal(durationSeconds('12h'), 43_200);
  assert.equal(durationSeconds('90d'), 7_776_000);
  for (const bad of ['0', '0d', '-1h', '1.5h', '1w', 'soon', '', ' 1h']) assert.throws(() => durationSeconds(bad), /expected a duration/, bad);
});
