import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readResults, runBench, type ResultRow } from './bench-support';

interface ReshardResults {
  suite: string;
  rows: ResultRow[];
  failures: string[];
  reshard: {
    keys: number;
    partitionAdded: string;
    migration: { state: string; keysMoved: number; slotsMoved: number; slotsTotal: number };
    migrationSeconds: number;
    clientErrors: number;
  };
}

test('the resharding scenario runs in --smoke mode: p2 joins a loaded 2-partition cluster under load, with no client error', async () => {
  await runBench(['--reshard', '--smoke'], (stdout, out) => {
    assert.match(stdout, /Resharding: 2 partitions × 2 replicas/);
    const results = readResults<ReshardResults>(out, 'reshard');
    assert.equal(results.suite, 'reshard');
    assert.deepEqual(results.failures, []);
    assert.deepEqual(
      results.rows.map((row) => row.name),
      ['reshard before', 'reshard joining', 'reshard during', 'reshard after'],
    );
    // The tiny move may be quicker than an answer: only the windows before and after it are sure to have some.
    for (const row of results.rows.filter((candidate) => candidate.name === 'reshard before' || candidate.name === 'reshard after')) {
      assert.ok((row.requests ?? 0) > 0, `${row.name} made requests`);
    }
    const { reshard } = results;
    assert.equal(reshard.keys, 2000);
    assert.equal(reshard.partitionAdded, 'p2');
    assert.equal(reshard.migration.state, 'done');
    assert.equal(reshard.migration.slotsMoved, reshard.migration.slotsTotal);
    assert.ok(reshard.migration.keysMoved > 0, 'keys moved');
    assert.ok(reshard.migrationSeconds > 0);
    assert.equal(reshard.clientErrors, 0, `no client error: ${JSON.stringify(results.rows.map((row) => [row.name, row.errors]))}`);
  });
});
