import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHistory } from '../src/checker/analysis';
import { findAnomalies } from '../src/checker/anomalies';
import { checkKey } from '../src/checker/linearizability';
import { HistoryBuilder } from './checker-builder';

const verdictOf = (h: HistoryBuilder, ttlToleranceMs?: number): string => checkKey('k', h.operations, { ttlToleranceMs }).outcome;
const ttl = (seconds: number): { ttlSeconds: number } => ({ ttlSeconds: seconds });

// With the default tolerance (1000 ms), a 2 s TTL written in [0, 10] may expire from 1000 and must by 3010.
describe('TTL: expiry in real time', () => {
  test('absent after the expiry window opens, and for good', () => {
    const h = new HistoryBuilder();
    h.write('v', 0, 10, 'ok', ttl(2));
    h.read('v', 20, 30);
    h.read(null, 1500, 1510);
    h.read(null, 5000, 5010);
    assert.equal(verdictOf(h), 'ok');
  });

  test('the value may still be read within the tolerance after its nominal expiry', () => {
    const h = new HistoryBuilder();
    h.write('v', 0, 10, 'ok', ttl(2));
    h.read('v', 2900, 3000);
    h.read(null, 3100, 3110);
    assert.equal(verdictOf(h), 'ok');
  });

  test('absent before the expiry window opens is a violation', () => {
    const h = new HistoryBuilder();
    h.write('v', 0, 10, 'ok', ttl(2));
    h.read(null, 900, 950);
    assert.equal(verdictOf(h), 'violation');
  });

  test('the value read after expiry + tolerance is a violation, with a hint saying so', () => {
    const h = new HistoryBuilder();
    h.write('v', 0, 10, 'ok', ttl(2));
    const late = h.read('v', 3100, 3110);
    const verdict = checkKey('k', h.operations);
    assert.equal(verdict.outcome, 'violation');
    assert.match(verdict.violation!.explanation, new RegExp(`#${late.id} saw "v" after its ttl`));
  });

  test('a wider tolerance (clock skew) accepts what the default refuses', () => {
    const h = new HistoryBuilder();
    h.write('v', 0, 10, 'ok', ttl(2));
    h.read(null, 900, 950);
    h.read(null, 4000, 4010);
    assert.equal(verdictOf(h), 'violation');
    assert.equal(verdictOf(h, 5000), 'ok');
  });

  test('an expired value must not come back: absent, then the value again, is a violation', () => {
    const h = new HistoryBuilder();
    h.write('v', 0, 10, 'ok', ttl(2));
    h.read(null, 2000, 2010);
    const back = h.read('v', 2500, 2510);
    // Each read alone fits the window; together they do not.
    const verdict = checkKey('k', h.operations, { ttlToleranceMs: 5000 });
    assert.equal(verdict.outcome, 'violation');
    assert.match(verdict.violation!.explanation, new RegExp(`#${back.id} saw "v" \\(ttl 2 s\\) after #\\d+ had seen the key absent`));
  });

  test('an overwrite is not expired by the TTL of the value it replaced', () => {
    const h = new HistoryBuilder();
    h.write('v', 0, 10, 'ok', ttl(1));
    h.write('u', 20, 30);
    h.read('u', 5000, 5010);
    assert.equal(verdictOf(h), 'ok');
    h.read(null, 6000, 6010);
    assert.equal(verdictOf(h), 'violation');
  });

  test('a value rewritten with a TTL expires by the new TTL', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10, 'ok', ttl(1));
    h.cas('a', 'b', 500, 510, 'ok', ttl(3));
    h.read('b', 3000, 3010);
    h.read(null, 5000, 5010);
    assert.equal(verdictOf(h), 'ok');
  });

  test('an unknown TTL write nobody read may explain a later absence', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    const unknown = h.write('u', 20, undefined, 'unknown', ttl(1));
    h.read('a', 30, 40);
    h.read(null, 10_000, 10_010);
    assert.equal(verdictOf(h), 'ok');
    unknown.outcome = 'fail';
    assert.equal(verdictOf(h), 'violation');
  });

  test('an unknown TTL write that was read expires at no known time, but does not come back', () => {
    const h = new HistoryBuilder();
    h.write('u', 0, undefined, 'unknown', ttl(1));
    h.read('u', 60_000, 60_010);
    assert.equal(verdictOf(h), 'ok');
    h.read(null, 61_000, 61_010);
    h.read('u', 62_000, 62_010);
    assert.equal(verdictOf(h), 'violation');
  });

  test('absent reads on a TTL key are left to the search, not called stale or lost', () => {
    const h = new HistoryBuilder();
    h.write('v', 0, 10, 'ok', ttl(1));
    h.read(null, 5000, 5010);
    const found = findAnomalies(h.operations);
    assert.deepEqual(found.staleReads, []);
    assert.deepEqual(found.lostWrites, []);
    assert.equal(verdictOf(h), 'ok');
  });
});

describe('locks: If-None-Match creates, If-Match updates and deletes', () => {
  test('two creates that both win with nothing between them is a violation', () => {
    const h = new HistoryBuilder();
    h.cas(null, 'l1', 0, 10);
    h.cas(null, 'l2', 20, 30);
    assert.equal(verdictOf(h), 'violation');
  });

  test('a release between two creates, and a 412 for a create while held', () => {
    const h = new HistoryBuilder();
    h.cas(null, 'l1', 0, 10);
    h.cas(null, 'x', 12, 15, 'fail', { detail: '412 PRECONDITION_FAILED' });
    h.delete('l1', 20, 30);
    h.cas(null, 'l2', 40, 50);
    h.delete('l1', 60, 70, 'fail', { detail: '412 PRECONDITION_FAILED' });
    h.read('l2', 80, 90);
    assert.equal(verdictOf(h), 'ok');
  });

  test('a lease: the second create may win once the first one\'s TTL can have run out, not before', () => {
    const early = new HistoryBuilder();
    early.cas(null, 'l1', 0, 10, 'ok', ttl(2));
    early.cas(null, 'l2', 500, 510);
    assert.equal(verdictOf(early), 'violation');
    const late = new HistoryBuilder();
    late.cas(null, 'l1', 0, 10, 'ok', ttl(2));
    late.cas(null, 'l2', 1500, 1510);
    late.read('l2', 6000, 6010);
    assert.equal(verdictOf(late), 'ok');
  });

  test('an If-Match with an old version that succeeds is a violation', () => {
    const h = new HistoryBuilder();
    h.cas(null, 'a', 0, 10);
    h.cas('a', 'b', 20, 30);
    h.cas('a', 'c', 40, 50);
    assert.equal(verdictOf(h), 'violation');
  });

  test('an unknown delete may explain a later absence; a failed one may not', () => {
    const h = new HistoryBuilder();
    h.cas(null, 'a', 0, 10);
    const del = h.delete('a', 20, undefined, 'unknown');
    h.read(null, 5000, 5010);
    assert.equal(verdictOf(h), 'ok');
    del.outcome = 'fail';
    del.detail = '503 UNAVAILABLE';
    assert.equal(verdictOf(h), 'violation');
  });
});

describe('async replication: acknowledged writes may be lost, strong reads stay linearizable', () => {
  const lossy = (): HistoryBuilder => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('b', 20, 30);
    h.read('a', 40, 50);
    return h;
  };

  test('a lost acknowledged write fails a sync run and passes an async one', () => {
    assert.equal(checkHistory(lossy().history()).valid, false);
    const report = checkHistory(lossy().history(), { replication: 'async' });
    assert.equal(report.valid, true);
    assert.equal(report.acknowledgedWrites, 2);
    assert.equal(report.lostWrites.count, 0);
  });

  test('a strong read older than one a completed strong read returned is a violation', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('b', 20, 30);
    h.read('b', 40, 50);
    h.read('a', 60, 70);
    assert.equal(checkHistory(h.history(), { replication: 'async' }).linearizability.violations.count, 1);
  });

  test('an acknowledged write cannot take effect after its acknowledgement', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.read(null, 20, 30); // a lost (or not yet visible) ...
    h.read('a', 40, 50); // ... cannot appear later
    assert.equal(checkHistory(h.history(), { replication: 'async' }).linearizability.violations.count, 1);
  });

  test('a 412 explained by an acknowledged write nobody read, which ended before the 412 began', () => {
    const h = new HistoryBuilder();
    h.read(null, 0, 30);
    h.write('a', 1, 25);
    h.cas(null, 'x', 32, 190, 'fail', { detail: '412 PRECONDITION_FAILED' });
    h.write('b', 400, 470);
    h.read('b', 500, 520);
    assert.equal(checkHistory(h.history(), { replication: 'async' }).linearizability.violations.count, 0);
  });

  test('a value never written still fails an async run', () => {
    const h = lossy();
    h.read('forged-1', 60, 70);
    const report = checkHistory(h.history(), { replication: 'async' });
    assert.equal(report.valid, false);
    assert.equal(report.neverWritten.count, 1);
  });
});

describe('shrinking', () => {
  test('a violation is not shrunk to a lone If-None-Match 412 (which no absent register explains)', () => {
    const h = new HistoryBuilder();
    const write = h.write('v', 0, 10, 'ok', ttl(2));
    h.cas(null, 'x', 20, 30, 'fail', { detail: '412 PRECONDITION_FAILED' });
    const absent = h.read(null, 2000, 2010);
    const back = h.read('v', 2500, 2510);
    const verdict = checkKey('k', h.operations, { ttlToleranceMs: 5000 });
    assert.equal(verdict.outcome, 'violation');
    assert.deepEqual(verdict.violation!.operations.map((op) => op.id), [write.id, absent.id, back.id]);
  });
});
