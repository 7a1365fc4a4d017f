import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRounds, readResults, runBench, type ResultRow, type RoundsResult } from './bench-support';

test('the security bench runs plain, auth, tls and auth+tls clusters side by side in interleaved rounds and reports each ratio against plain (no speed is asserted)', async () => {
  await runBench(['--security', '--smoke', '--replicas', '1', '--duration', '0.5', '--rounds', '2'], (stdout, out) => {
    assert.match(stdout, /Security: the cost of --auth on and of TLS/);
    const results = readResults<{ suite: string; rows: ResultRow[]; rounds: RoundsResult[]; failures: string[] }>(out, 'security');
    assert.deepEqual(results.failures, []);
    // An error here would be a load the gate refused: a missing token (401) or a TLS handshake that failed.
    for (const row of results.rows) assert.equal(row.errors, 0, `${row.name} had no errors`);
    assert.equal(results.rounds.length, 1);
    const entrants = ['plain', 'auth', 'tls', 'auth+tls'];
    checkRounds(results.rounds[0]!, results.rows, [
      { workload: 'gate GET strong', entrants },
      { workload: 'gate PUT (sync, fsync on)', entrants },
    ], 2);
  });
});
