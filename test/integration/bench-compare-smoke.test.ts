import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readResults, runBench, type ResultRow } from './bench-support';

interface CompareResults {
  suite: string;
  rows: ResultRow[];
  compare: { baseline: { revision: string; commit: string }; ratios: Array<{ workload: string; rounds: number[]; median: number; min: number; max: number }> } | null;
  failures: string[];
}

test('the compare bench builds another revision, runs both clusters side by side in interleaved rounds and reports each ratio (no speed is asserted)', async () => {
  await runBench(['--smoke', '--against', 'HEAD', '--rounds', '2'], (stdout, out) => {
    assert.match(stdout, /Compare: this checkout \(candidate\) against HEAD/);
    const results = readResults<CompareResults>(out, 'compare');
    assert.deepEqual(results.failures, []);
    const names = results.rows.map((row) => row.name);
    // Round 1 runs the baseline first, round 2 the candidate.
    assert.deepEqual(names, [
      'gate GET strong [baseline]',
      'gate PUT (sync, fsync on) [baseline]',
      'gate GET strong [candidate]',
      'gate PUT (sync, fsync on) [candidate]',
      'gate GET strong [candidate]',
      'gate PUT (sync, fsync on) [candidate]',
      'gate GET strong [baseline]',
      'gate PUT (sync, fsync on) [baseline]',
    ]);
    for (const row of results.rows) assert.equal(row.errors, 0, `${row.name} had no errors`);
    assert.match(results.compare!.baseline.commit, /^[0-9a-f]{40}$/);
    assert.deepEqual(
      results.compare!.ratios.map((ratio) => [ratio.workload, ratio.rounds.length]),
      [
        ['gate GET strong', 2],
        ['gate PUT (sync, fsync on)', 2],
      ],
    );
    for (const ratio of results.compare!.ratios) assert.ok(ratio.min <= ratio.median && ratio.median <= ratio.max && ratio.min > 0);
  });
});
