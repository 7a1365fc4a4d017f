import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@kvstore/testkit';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const RUNNER = path.join(REPO_ROOT, 'chaos', 'dist', 'src', 'run.js');

interface ChaosReport {
  operations: { total: number };
  acknowledgedWrites: number;
  lostWrites: { count: number };
  neverWritten: { count: number };
  linearizability: { violations: { count: number } };
}

/**
 * The short chaos run of CI: a private cluster under a fixed-seed nemesis
 * (leader and follower SIGKILLs, a zombie leader, a gate killed, ZooKeeper
 * stopped and restarted, a replica cut off from peers and ZooKeeper) for
 * 60 s, with the lock clients racing conditional and TTL'd writes after each
 * fault, then healed and checked. It fails on any lost acknowledged write,
 * linearizability violation (TTL expiry included) or value never written.
 */
test('a 60 s chaos run loses no acknowledged write and stays linearizable', { timeout: 150_000 }, async () => {
  const out = tempDir('chaos-run');
  const args = [RUNNER, '--duration', '60', '--seed', '7', '--faults', 'kill,pause,gate,zk,partition,transfer,maintenance', '--out', out];
  const output: Buffer[] = [];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
  const text = Buffer.concat(output).toString('utf8');
  assert.equal(code, 0, `chaos run exited with ${code}:\n${text.slice(-6000)}`);

  const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as ChaosReport;
  assert.ok(report.operations.total > 1000, `only ${report.operations.total} operations`);
  assert.ok(report.acknowledgedWrites > 100, `only ${report.acknowledgedWrites} acknowledged writes`);
  assert.equal(report.lostWrites.count, 0, 'lost acknowledged writes');
  assert.equal(report.linearizability.violations.count, 0, 'linearizability violations');
  assert.equal(report.neverWritten.count, 0, 'reads of values never written');

  const history = JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8')) as {
    faults: { kind: string }[];
    operations: { kind: string; outcome: string; ttlSeconds?: number }[];
  };
  const kinds = new Set(history.faults.map((fault) => fault.kind));
  const acknowledged = history.operations.filter((op) => op.outcome === 'ok');
  assert.ok(acknowledged.some((op) => op.kind === 'delete'), 'the lock clients released no lock');
  assert.ok(acknowledged.some((op) => op.ttlSeconds !== undefined), 'no TTL write was acknowledged');
  for (const kind of ['kill', 'pause', 'gate', 'zk', 'partition', 'transfer', 'maintenance']) assert.ok(kinds.has(kind), `no ${kind} fault was injected (${[...kinds].join(', ')})`);

  const svg = fs.readFileSync(path.join(out, 'timeline.svg'), 'utf8');
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /class="fault"/);
  assert.match(svg, /<\/svg>\s*$/);
});
