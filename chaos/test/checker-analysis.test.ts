import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHistory, formatReport } from '../src/checker/analysis';
import { findAnomalies } from '../src/checker/anomalies';
import { measureAvailability } from '../src/checker/availability';
import type { History, HistoryOperation } from '../src/history';
import { HistoryBuilder } from './checker-builder';

describe('anomalies', () => {
  test('stale read and the write it lost, witnessed by the final read', () => {
    const h = new HistoryBuilder();
    const a = h.write('a', 0, 10);
    const b = h.write('b', 20, 30);
    h.read('b', 40, 50);
    const final = h.read('a', 1000, 1010);
    const found = findAnomalies(h.operations);
    assert.deepEqual(found.staleReads, [{ read: final, returned: a, newer: b }]);
    assert.deepEqual(found.lostWrites, [{ write: b, read: final, atEnd: true }]);
    assert.deepEqual(found.neverWritten, []);
  });

  test('absent after an acknowledged write is a lost write; concurrent writes are not', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 100);
    h.write('b', 10, 90);
    h.read('a', 200, 210); // b may have been ordered before a: fine
    const empty = new HistoryBuilder('other');
    const w = empty.write('x', 0, 10);
    const r = empty.read(null, 20, 30);
    const found = findAnomalies([...h.operations, ...empty.operations]);
    assert.deepEqual(found.lostWrites, [{ write: w, read: r, atEnd: true }]);
    assert.equal(found.staleReads.length, 1);
  });

  test('a value no write of the key wrote, whatever the outcome', () => {
    const h = new HistoryBuilder();
    h.write('f', 0, 10, 'fail');
    h.write('u', 20, undefined, 'unknown');
    h.read('f', 30, 40);
    h.read('u', 50, 60);
    const ghost = h.read('zzz', 70, 80);
    assert.deepEqual(findAnomalies(h.operations).neverWritten, [{ read: ghost }]);
  });
});

describe('availability', () => {
  test('longest gaps per partition and per fault', () => {
    const ops: HistoryOperation[] = [];
    const ok = (partition: string, at: number): void => {
      ops.push({ id: ops.length, client: 0, key: `k${partition}`, partition, kind: 'read', result: null, invokedAt: at - 1, completedAt: at, outcome: 'ok' });
    };
    for (let t = 100; t <= 10_000; t += 100) if (t < 3000 || t > 5500) ok('p1', t); // p1 down 2900..5600
    for (let t = 100; t <= 10_000; t += 100) ok('p2', t);
    ops.push({ id: 999, client: 0, key: 'kp1', partition: 'p1', kind: 'write', value: 'v', invokedAt: 3000, outcome: 'unknown' });
    const history: History = {
      operations: ops,
      faults: [
        { kind: 'kill-leader', target: 'r1', partition: 'p1', startedAt: 3000, endedAt: 5000 },
        { kind: 'kill-gate', target: 'g1', startedAt: 7000, endedAt: 7500 },
      ],
      startedAt: 0,
      endedAt: 10_000,
    };
    const availability = measureAvailability(history, { faultTailMs: 2000, bucketMs: 1000 });
    assert.deepEqual(
      availability.partitions.map((p) => [p.partition, p.longestGap.ms, p.longestGap.from, p.longestGap.to]),
      [['*', 100, 0, 100], ['p1', 2700, 2900, 5600], ['p2', 100, 0, 100]],
    );
    const [leader, gate] = availability.faults;
    assert.deepEqual([leader.windowFrom, leader.windowTo, leader.longestGap.ms], [3000, 7000, 2600]);
    assert.equal(leader.recoveredAfterMs, 600);
    assert.deepEqual([gate.longestGap.ms, gate.recoveredAfterMs], [100, 0]);
    assert.deepEqual(availability.byFaultKind.map((k) => [k.kind, k.maxGapMs]), [['kill-leader', 2600], ['kill-gate', 100]]);
    assert.deepEqual(availability.timeline.okPerSecond.p1.slice(2, 6), [10, 0, 0, 4]);
    assert.equal(availability.timeline.notOkPerSecond[3], 1);
  });
});

describe('checkHistory', () => {
  test('a report for a broken history: JSON-serialisable, readable summary', () => {
    const h = new HistoryBuilder();
    h.write('a', 0, 10);
    h.write('b', 20, 30);
    h.read('a', 40, 50);
    h.read('nobody', 60, 70);
    h.cas('b', 'c', 80, 90, 'unknown');
    const report = checkHistory(h.history());
    assert.equal(report.valid, false);
    assert.equal(report.operations.byKind.write.ok, 2);
    assert.equal(report.operations.byKind.cas.unknown, 1);
    assert.equal(report.acknowledgedWrites, 2);
    assert.equal(report.lostWrites.count, 1);
    assert.equal(report.staleReads.count, 1);
    assert.equal(report.neverWritten.count, 1);
    assert.equal(report.linearizability.violations.count, 1);
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
    const text = formatReport(report);
    assert.match(text, /^INVALID: 5 operations/);
    assert.match(text, /Linearizability violations/);
    assert.match(text, /read → "nobody"/);
  });

  test('100k generated linearizable operations over 2 000 keys check in seconds', () => {
    const history = generateLinearizableHistory(100_000, 2000, 42);
    const started = performance.now();
    const report = checkHistory(history);
    const elapsed = performance.now() - started;
    console.log(`checkHistory: ${history.operations.length} ops, ${report.linearizability.keys} keys, ` +
      `${report.linearizability.steps} steps, ${Math.round(elapsed)} ms`);
    assert.equal(report.valid, true, formatReport(report));
    assert.equal(report.linearizability.unknown.count, 0, JSON.stringify(report.linearizability.unknown));
    assert.ok(elapsed < 15_000, `took ${elapsed} ms`);
  });
});

/**
 * Simulates a correct register per key: every operation takes effect at a
 * random instant inside its interval, results computed in that order. A few
 * hot keys get long, heavily overlapping operations; some outcomes are
 * failed or unknown (an unknown write applied or not at random).
 */
function generateLinearizableHistory(count: number, keys: number, seed: number): History {
  let x = seed;
  const random = (): number => {
    // mulberry32
    x = (x + 0x6d2b79f5) | 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const durationMs = 300_000;
  type Planned = { op: HistoryOperation; at: number; applies: boolean };
  const planned: Planned[] = [];
  for (let id = 0; id < count; id++) {
    const hot = random() < 0.1;
    const key = hot ? `hot${Math.floor(random() * 10)}` : `k${Math.floor(random() * keys)}`;
    const invokedAt = random() * durationMs;
    const completedAt = invokedAt + 1 + random() * (hot ? 400 : 30);
    const roll = random();
    const kind = roll < 0.5 ? 'read' : roll < 0.85 ? 'write' : 'cas';
    const fate = random();
    const outcome = fate < 0.03 ? 'fail' : fate < 0.06 && kind !== 'read' ? 'unknown' : 'ok';
    const op: HistoryOperation = { id, client: id % 50, key, partition: `p${key.length % 2}`, kind, invokedAt, completedAt, outcome };
    if (kind !== 'read') op.value = `v${id}`;
    planned.push({ op, at: invokedAt + random() * (completedAt - invokedAt), applies: outcome === 'ok' || (outcome === 'unknown' && random() < 0.5) });
  }
  planned.sort((a, b) => a.at - b.at);
  const state = new Map<string, string | null>();
  for (const { op, applies } of planned) {
    const current = state.get(op.key) ?? null;
    if (op.kind === 'read') {
      if (op.outcome === 'ok') op.result = current;
    } else if (op.kind === 'write') {
      if (applies) state.set(op.key, op.value!);
    } else {
      // A cas expects the current value most of the time, so most succeed.
      op.expected = random() < 0.8 ? current : 'stale';
      if (op.expected !== current && op.outcome !== 'fail') Object.assign(op, { outcome: 'fail', detail: '412' });
      else if (applies) state.set(op.key, op.value!);
    }
    if (op.outcome === 'unknown') delete op.completedAt;
  }
  return { operations: planned.map((p) => p.op).sort((a, b) => a.id - b.id), faults: [], startedAt: 0, endedAt: durationMs + 500 };
}
