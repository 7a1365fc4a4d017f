import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readResults, runBench, type ResultRow } from './bench-support';

interface StepResult {
  name: string;
  from: number;
  to: number;
  migration: { kind: string; partition: string; state: string; keysMoved: number; slotsMoved: number; slotsTotal: number; pauseMsMax: number };
  migrationSeconds: number;
  errors: number;
}

interface ReshardResults {
  suite: string;
  rows: ResultRow[];
  failures: string[];
  reshard: {
    keys: number;
    steps: StepResult[];
    totals: { keysMoved: number; errors: number; worstPauseMs: number };
    check: { keys: number; lost: number; stale: number; unreadable: number };
  };
}

test('the resharding scenario runs in --smoke mode: 2 → 3 → 4 → 3 → 2 partitions under load, every key read back as last acknowledged, no client error', async () => {
  await runBench(['--reshard', '--smoke'], (stdout, out) => {
    assert.match(stdout, /Resharding: 2 → 3 → 4 → 3 → 2 partitions × 2 replicas/);
    const results = readResults<ReshardResults>(out, 'reshard');
    assert.equal(results.suite, 'reshard');
    assert.deepEqual(results.failures, []);
    const steps = ['add p2', 'add p3', 'remove p3', 'remove p2'];
    assert.deepEqual(
      results.rows.map((row) => row.name),
      ['reshard before', ...steps.flatMap((step) => ['starting', 'during', 'after'].map((phase) => `reshard ${step} ${phase}`))],
    );
    // A tiny move may be quicker than an answer: only the steady windows are sure to have some.
    for (const row of results.rows.filter((candidate) => candidate.name === 'reshard before' || candidate.name.endsWith(' after'))) {
      assert.ok((row.requests ?? 0) > 0, `${row.name} made requests`);
    }
    const { reshard } = results;
    assert.equal(reshard.keys, 1000);
    assert.deepEqual(
      reshard.steps.map((step) => [step.name, step.from, step.to, step.migration.kind, step.migration.partition, step.migration.state]),
      [
        ['add p2', 2, 3, 'add', 'p2', 'done'],
        ['add p3', 3, 4, 'add', 'p3', 'done'],
        ['remove p3', 4, 3, 'remove', 'p3', 'done'],
        ['remove p2', 3, 2, 'remove', 'p2', 'done'],
      ],
    );
    for (const step of reshard.steps) {
      assert.equal(step.migration.slotsMoved, step.migration.slotsTotal, `${step.name}: every slot moved`);
      assert.ok(step.migration.keysMoved > 0, `${step.name}: keys moved`);
      assert.ok(step.migrationSeconds > 0);
    }
    assert.equal(reshard.totals.keysMoved, reshard.steps.reduce((sum, step) => sum + step.migration.keysMoved, 0));
    assert.equal(reshard.totals.worstPauseMs, Math.max(...reshard.steps.map((step) => step.migration.pauseMsMax)));
    assert.equal(reshard.totals.errors, 0, `no client error: ${JSON.stringify(results.rows.map((row) => [row.name, row.errors]))}`);
    assert.deepEqual(reshard.check, { ...reshard.check, keys: 1000, lost: 0, stale: 0, unreadable: 0 });
  });
});
