import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkKey, checkLinearizability } from '../src/checker/linearizability';
import { HistoryBuilder } from './checker-builder';

const verdictOf = (h: HistoryBuilder): string => checkKey('k', h.operations).outcome;

describe('linearizability: accepted histories', () => {
  test('concurrent writes, overlapping reads seeing them in either order', () => {
    for (const [first, second] of [['a', 'b'], ['b', 'a']]) {
      const h = new HistoryBuilder();
      h.write('a', 0, 100);
      h.write('b', 0, 100);
      h.read(first, 10, 20);
      h.read(second, 30, 40);
      assert.equal(verdictOf(h), 'ok', `reads ${first} then ${second}`);
    }
  });

  test('a read concurrent with a write may see the old or the new value', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('b', 20, 40);
    h.read('a', 25, 30);
    h.read('b', 26, 35);
    h.read('b', 50, 60);
    assert.equal(verdictOf(h), 'ok');
  });

  test('a cas chain from absent', () => {
    const h = new HistoryBuilder();
    h.read(null, 0, 5);
    h.cas(null, 'a', 10, 20);
    h.cas('a', 'b', 30, 40);
    h.cas('b', 'c', 35, 60);
    h.read('c', 70, 80);
    h.cas('a', 'x', 90, 100, 'fail', { detail: '412' });
    assert.equal(verdictOf(h), 'ok');
  });

  test('failed writes are dropped; a 503 cas says nothing about the state', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('lost', 20, 30, 'fail', { detail: '503' });
    h.cas('a', 'x', 40, 50, 'fail', { detail: '503' });
    h.read('a', 60, 70);
    assert.equal(verdictOf(h), 'ok');
  });

  test('an unknown write whose value is read later took effect', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('b', 20, undefined, 'unknown');
    h.read('a', 30, 40);
    h.read('b', 5000, 5010);
    assert.equal(verdictOf(h), 'ok');
  });

  test('an unknown write never read may never have happened', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('b', 20, undefined, 'unknown');
    h.cas('a', 'c', 30, 40, 'unknown');
    h.read('a', 50, 60);
    h.cas('b', 'x', 70, 80, 'fail', { detail: '412' });
    h.read('a', 90, 100);
    assert.equal(verdictOf(h), 'ok');
  });

  test('a chain of unknown ops whose end is read: both took effect', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('b', 20, undefined, 'unknown');
    h.cas('b', 'c', 30, undefined, 'unknown');
    h.read('c', 5000, 5010);
    assert.equal(verdictOf(h), 'ok');
  });

  test('a 412 explained only by an unknown write nobody read', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    const unknown = h.write('u', 20, undefined, 'unknown');
    h.cas('a', 'x', 30, 40, 'fail', { detail: '412' });
    h.write('b', 50, 60);
    h.read('b', 70, 80);
    assert.equal(verdictOf(h), 'ok');
    unknown.outcome = 'fail';
    assert.equal(verdictOf(h), 'violation');
  });
});

describe('linearizability: rejected histories', () => {
  test('stale read: a read after a completed write returns the older value, shrunk to 3 ops', () => {
    const h = new HistoryBuilder();
    h.read(null, 0, 5);
    const a = h.write('a', 10, 20);
    const b = h.write('b', 30, 40);
    const stale = h.read('a', 50, 60);
    h.read('b', 70, 80);
    h.write('c', 90, 100);
    h.read('c', 110, 120);
    const verdict = checkKey('k', h.operations);
    assert.equal(verdict.outcome, 'violation');
    assert.deepEqual(verdict.violation!.operations.map((op) => op.id), [a.id, b.id, stale.id]);
    assert.equal(verdict.violation!.minimal, true);
    assert.match(verdict.violation!.explanation, new RegExp(`#${stale.id} saw "a" although #${b.id} had replaced it`));
  });

  test('lost write: the final read returns the value before an acknowledged write', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('b', 20, 30);
    h.read('b', 40, 50);
    h.read('a', 1000, 1010);
    assert.equal(verdictOf(h), 'violation');
  });

  test('a read of a value never written, even by a failed write', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('f', 20, 30, 'fail', { detail: '503' });
    const ghost = h.read('f', 40, 50);
    const verdict = checkKey('k', h.operations);
    assert.equal(verdict.outcome, 'violation');
    assert.deepEqual(verdict.violation!.operations.map((op) => op.id), [ghost.id]);
  });

  test('a cas that succeeded against a value no longer current', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('b', 20, 30);
    h.cas('a', 'c', 40, 50);
    assert.equal(verdictOf(h), 'violation');
  });

  test('a 412 although the precondition held (stale precondition check)', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.cas('a', 'x', 20, 30, 'fail', { detail: 'PRECONDITION_FAILED' });
    h.read('a', 40, 50);
    assert.equal(verdictOf(h), 'violation');
  });

  test('an unknown write whose value appears, disappears and reappears', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('b', 20, undefined, 'unknown');
    h.read('b', 30, 40);
    h.read('a', 50, 60);
    h.read('b', 70, 80);
    assert.equal(verdictOf(h), 'violation');
  });

  test('values read in opposite orders by sequential reads', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 100);
    h.write('b', 0, 100);
    h.read('a', 10, 20);
    h.read('b', 30, 40);
    h.read('a', 50, 60);
    assert.equal(verdictOf(h), 'violation');
  });
});

describe('linearizability: bounds', () => {
  test('a pathological key exhausts its budget and is reported unknown', () => {
    // 24 fully concurrent writes then a read nobody could satisfy: refuting it
    // means trying every subset of the writes.
    const h = new HistoryBuilder('hot');
    for (let i = 0; i < 24; i++) h.write(`v${i}`, 0, 1000);
    h.read('v0', 2000, 2010);
    h.read('v1', 2020, 2030);
    const started = Date.now();
    const result = checkLinearizability(h.operations, { maxStepsPerKey: 20_000 });
    assert.deepEqual(result.unknown.map((u) => u.key), ['hot']);
    assert.equal(result.violations.length, 0);
    assert.ok(Date.now() - started < 2000);
  });

  test('keys are checked independently', () => {
    const good = new HistoryBuilder('good');
    good.write('g', 0, 10);
    good.read('g', 20, 30);
    const bad = new HistoryBuilder('bad');
    bad.write('x', 0, 10);
    bad.write('y', 20, 30);
    bad.read('x', 40, 50);
    const result = checkLinearizability([...good.operations, ...bad.operations]);
    assert.equal(result.keys, 2);
    assert.equal(result.linearizable, 1);
    assert.deepEqual(result.violations.map((v) => v.key), ['bad']);
  });
});
