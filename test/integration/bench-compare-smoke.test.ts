import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRounds, readResults, runBench, type ResultRow, type RoundsResult } from './bench-support';

interface CompareResults {
  suite: string;
  rows: ResultRow[];
  rounds: RoundsResult[];
  compare: { baseline: { revision: string; commit: string } } | null;
  failures: string[];
}

test('the compare bench builds another revision, runs both clusters side by side in interleaved rounds and reports each ratio (no speed is asserted)', async () => {
  await runBench(['--smoke', '--against', 'HEAD', '--rounds', '2'], (stdout, out) => {
    assert.match(stdout, /Compare: this checkout \(candidate\) against HEAD/);
    const results = readResults<CompareResults>(out, 'compare');
    assert.deepEqual(results.failures, []);
    for (const row of results.rows) assert.equal(row.errors, 0, `${row.name} had no errors`);
    assert.match(results.compare!.baseline.commit, /^[0-9a-f]{40}$/);
    assert.equal(results.rounds.length, 1);
    const entrants = ['baseline', 'candidate'];
    checkRounds(results.rounds[0]!, results.rows, [
      { workload: 'gate GET strong', entrants },
      { workload: 'gate PUT (sync, fsync on)', entrants },
    ], 2);
  });
});
