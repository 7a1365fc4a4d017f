import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRounds, readResults, runBench, type ResultRow, type RoundsResult } from './bench-support';

const RTT_MS = 20;

test('the pipeline bench runs a cluster per replication window, every replica a round trip away, in interleaved rounds of gate PUT (no speed is asserted)', async () => {
  const args = ['--pipeline', '--smoke', '--replicas', '2', '--duration', '0.5', '--rounds', '2', '--windows', '1,4', '--rtt-ms', String(RTT_MS)];
  await runBench(args, (stdout, out) => {
    assert.match(stdout, /Pipelining: appends in flight per follower/);
    const results = readResults<{ suite: string; rows: ResultRow[]; rounds: RoundsResult[]; failures: string[] }>(out, 'pipeline');
    assert.deepEqual(results.failures, []);
    assert.equal(results.rounds.length, 1);
    const workload = `gate PUT (sync, fsync on, +${RTT_MS} ms round trip to each replica)`;
    checkRounds(results.rounds[0]!, results.rows, [{ workload, entrants: ['window 1', 'window 4'] }], 2);
    for (const row of results.rows) {
      assert.equal(row.errors, 0, `${row.name} had no errors`);
      // A sync PUT crosses two delayed links, the gate's to the leader and the
      // leader's to its follower: so both reach the replicas by the delaying proxies.
      assert.ok(row.latencyMs!.p50 >= 2 * RTT_MS - 1, `${row.name}: p50 ${row.latencyMs!.p50} ms is at least two round trips`);
    }
  });
});
