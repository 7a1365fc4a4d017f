import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRounds, readResults, runBench, type ResultRow, type RoundsResult } from './bench-support';

/** The rows of a --smoke run (1 partition × 2 replicas, sync, fsync on, data dirs; etcd is skipped). */
const MAIN_ROWS = [
  'baseline fixed body',
  'baseline Map GET',
  'baseline Map PUT',
  'gate GET strong',
  'gate GET eventual',
  'gate PUT (sync, fsync on)',
  'gate 90/10 GET/PUT',
  'gate hot key PUT (1 key)',
  'gate GET uniform (1,000 keys)',
  'direct GET strong (leader of p0)',
  'direct PUT (leader of p0)',
  'self-routing GET strong',
  'self-routing PUT',
  'gate PUT (async, fsync on)',
  'gate PUT (sync, fsync off)',
];

test('the cluster bench runs in --smoke mode and writes its JSON and SVG, with the headline ratios in interleaved rounds (no speed is asserted)', async () => {
  await runBench(['--smoke'], (stdout, out) => {
    for (const table of ['Cluster bench', 'Scaling with connections', 'Gate GET with more keys loaded', 'Headline ratios']) assert.match(stdout, new RegExp(table));
    const results = readResults<{ suite: string; rows: ResultRow[]; rounds: RoundsResult[]; failures: string[] }>(out, 'cluster');
    assert.equal(results.suite, 'cluster');
    assert.deepEqual(results.failures, []);
    assert.deepEqual(
      results.rows.filter((row) => !['connections', 'keys', 'rounds'].includes(row.group)).map((row) => row.name),
      MAIN_ROWS,
    );
    // Without etcd (--smoke) the PUT reference is the Map server.
    assert.equal(results.rounds.length, 1);
    checkRounds(results.rounds[0]!, results.rows, [
      { workload: 'GET strong', entrants: ['Map server', 'gate', 'self-routing'] },
      { workload: 'PUT (sync, fsync on)', entrants: ['Map server', 'gate', 'self-routing'] },
    ], 2);
    // A write through kvstore is made durable in group commits on the leader and on each follower, counted from their /metrics.
    const rowNamed = (name: string): ResultRow => results.rows.find((row) => row.name === name)!;
    for (const name of ['gate PUT (sync, fsync on)', 'self-routing PUT', 'PUT (sync, fsync on) [gate]']) {
      const { leader, followers } = rowNamed(name).requestsPerCommit ?? {};
      assert.ok(leader! > 0 && followers! > 0, `${name}: requests per commit of the leader and a follower: ${leader}, ${followers}`);
    }
    assert.deepEqual(rowNamed('baseline Map PUT').requestsPerCommit, {}, 'no kvserver, no commits');
    const gatePut = results.rounds[0]!.comparisons[1]!.entrants[1]!;
    assert.ok(gatePut.requestsPerCommit.leader! > 0, `PUT [gate]: the rounds' median requests per commit: ${JSON.stringify(gatePut.requestsPerCommit)}`);
    assert.equal(results.rows.filter((row) => row.group === 'connections').length, 4, 'gate GET and PUT at 1 and 4 connections');
    assert.equal(results.rows.filter((row) => row.group === 'keys').length, 1, 'gate GET with 2,000 keys loaded');
    for (const row of results.rows) {
      assert.equal(row.failure, undefined, `${row.name} ran`);
      assert.ok((row.requests ?? 0) > 0, `${row.name} made requests`);
      assert.equal(row.errors, 0, `${row.name} had no errors`);
    }
  });
});
