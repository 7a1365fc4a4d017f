import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHistory } from '../src/checker/analysis';
import { checkKey } from '../src/checker/linearizability';
import type { HistoryOperation } from '../src/history';
import { Random } from '../src/random';

const TOLERANCE_MS = 1000;

/**
 * A history of one key produced by a correct store: each operation takes
 * effect at one instant inside its interval, against a register whose TTL'd
 * values expire at ttl ± tolerance after that instant. Some outcomes are then
 * hidden (unknown), as a client whose connection dropped would see them.
 */
function correctHistory(rng: Random, size: number, replication: 'sync' | 'async' = 'sync'): HistoryOperation[] {
  interface Planned {
    op: HistoryOperation;
    at: number;
    applies: boolean;
  }
  const planned: Planned[] = [];
  let t = 0;
  for (let id = 1; id <= size; id++) {
    t += rng.between(0, 300);
    const invokedAt = t;
    const completedAt = invokedAt + rng.between(1, 400);
    const at = rng.between(invokedAt, completedAt);
    const choice = rng.next();
    const kind = choice < 0.4 ? 'read' : choice < 0.6 ? 'write' : choice < 0.9 ? 'cas' : 'delete';
    const op: HistoryOperation = { id, client: id, key: 'k', kind, invokedAt, completedAt, outcome: 'ok' };
    if (kind !== 'read' && kind !== 'delete') op.value = `v${id}`;
    if ((kind === 'write' || kind === 'cas') && rng.chance(0.5)) op.ttlSeconds = rng.between(1, 3);
    // Some writes never take effect: unknown to their client, or in async mode acknowledged and then lost.
    planned.push({ op, at, applies: kind === 'read' || !rng.chance(0.1) });
  }
  // Run the register in effect order; a cas or delete expects what an earlier read saw (maybe stale).
  let state: { value: string; expiresAt: number } | null = null;
  let lastSeen: string | null = null;
  for (const { op, at, applies } of [...planned].sort((a, b) => a.at - b.at)) {
    if (state !== null && at >= state.expiresAt) state = null;
    const current: string | null = state?.value ?? null;
    if (op.kind === 'read') {
      op.result = current;
      lastSeen = current;
      continue;
    }
    if (op.kind === 'cas' || op.kind === 'delete') {
      op.expected = op.kind === 'delete' || rng.chance(0.7) ? (lastSeen ?? (op.kind === 'delete' ? 'none' : null)) : null;
      if (op.expected !== current) {
        op.outcome = 'fail';
        op.detail = '412 PRECONDITION_FAILED';
        continue;
      }
    }
    if (!applies) {
      if (replication === 'sync') delete op.completedAt;
      op.outcome = replication === 'sync' ? 'unknown' : 'ok';
      continue;
    }
    const expiresAt = op.ttlSeconds === undefined ? Infinity : at + op.ttlSeconds * 1000 + rng.between(-TOLERANCE_MS, TOLERANCE_MS);
    state = op.value === undefined ? null : { value: op.value, expiresAt };
  }
  for (const { op } of planned) {
    if (op.kind !== 'read' && op.outcome === 'ok' && rng.chance(0.15)) {
      op.outcome = 'unknown';
      delete op.completedAt;
    }
  }
  return planned.map((p) => p.op);
}

test('histories of a correct TTL register are never called violations', () => {
  let decided = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const ops = correctHistory(new Random(seed), 60);
    const verdict = checkKey('k', ops, { ttlToleranceMs: TOLERANCE_MS, maxStepsPerKey: 200_000 });
    assert.notEqual(verdict.outcome, 'violation', `seed ${seed}: ${verdict.violation?.explanation}`);
    if (verdict.outcome === 'ok') decided++;
  }
  assert.ok(decided >= 290, `only ${decided} of 300 decided within the budget`);
});

test('async histories that lose acknowledged writes are never called violations', () => {
  for (let seed = 1; seed <= 150; seed++) {
    const operations = correctHistory(new Random(seed), 60, 'async');
    const report = checkHistory({ operations, faults: [], startedAt: 0, endedAt: 0 }, { replication: 'async', ttlToleranceMs: TOLERANCE_MS });
    assert.equal(report.linearizability.violations.count, 0, `seed ${seed}: ${report.linearizability.violations.items[0]?.explanation}`);
    assert.equal(report.valid, true, `seed ${seed}`);
  }
});

test('the generator\'s histories do fail once a read is made stale', () => {
  let caught = 0;
  let tried = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const ops = correctHistory(new Random(seed), 60);
    // The last read that saw a value sees the value before it instead: an older one, already replaced.
    const reads = ops.filter((op) => op.kind === 'read' && op.result != null);
    const victim = reads.at(-1);
    const older = victim && ops.filter((op) => op.value !== undefined && op.outcome === 'ok' && op.completedAt! < victim.invokedAt - 5000).at(-1);
    if (!victim || !older || older.ttlSeconds !== undefined) continue;
    tried++;
    victim.result = older.value;
    if (checkKey('k', ops, { ttlToleranceMs: TOLERANCE_MS }).outcome === 'violation') caught++;
  }
  assert.ok(tried >= 10, `only ${tried} histories could be mutated`);
  assert.ok(caught >= tried * 0.8, `${caught} of ${tried} stale reads caught`);
});
