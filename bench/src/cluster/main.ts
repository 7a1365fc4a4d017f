/**
 * `npm run bench -- cluster [flags]`: the whole system under load
 * (bench/README.md). Node:http baselines in processes of their own, then a
 * kvstore cluster on a private ZooKeeper (through the gate and straight to a
 * partition leader), the same cluster with async replication and with fsync
 * off, the scaling figure, and etcd as a reference, then the headline ratios
 * in interleaved rounds (rounds.ts); autocannon, in this process, makes the load. Prints the tables, writes <out>/<stamp>-cluster.json
 * and .svg, and exits non-zero if any part failed to run.
 *
 * With --reshard (`npm run bench -- reshard`) it runs only the resharding
 * scenario (reshard.ts) and writes <out>/<stamp>-reshard.json and .svg; with
 * --against <rev> (`npm run bench -- compare --against <rev>`) only the
 * interleaved comparison with that commit's build (compare.ts), into
 * <out>/<stamp>-compare.json and .svg; with --security (`npm run bench --
 * security`) only the security variants' comparison (security.ts), into
 * <out>/<stamp>-security.json and .svg; with --pipeline (`npm run bench --
 * pipeline`) only the replication window's comparison (pipeline.ts), into
 * <out>/<stamp>-pipeline.json and .svg.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCompare, type CompareResult } from './compare';
import type { Run } from './context';
import { describeConfig } from './kvcluster';
import { Lifecycle } from './lifecycle';
import { parseOrExit } from '../command-line';
import { describeShape, parseOptions } from './options';
import { machineInfo, resultsStem, writeResults } from './output';
import { runAll } from './plan';
import { printProfileSummaries } from './profile-summary';
import { addRatios, mainRows, printMainTable, printReshardTable, printScalingTables } from './report';
import { describeReshard, runReshard } from './reshard';
import type { ReshardResult } from './reshard-result';
import { runPipeline } from './pipeline';
import { printRounds } from './rounds';
import { runSecurity } from './security';
import { chartSvg } from './svg';
import { Workload } from './workload';

async function main(): Promise<number> {
  const options = parseOrExit('bench cluster', () => parseOptions(process.argv.slice(2)));
  if (options.cpuProfDir) fs.mkdirSync(options.cpuProfDir, { recursive: true });
  const startedAt = new Date();
  const started = performance.now();
  const run: Run = {
    options,
    lifecycle: new Lifecycle(),
    dir: fs.mkdtempSync(path.join(os.tmpdir(), 'kvstore-bench-cluster-')),
    workload: new Workload(options.valueBytes),
    rows: [],
    rounds: [],
    failures: [],
    processNames: new Map(),
  };
  const config = { replication: options.replication, fsync: options.fsync, memory: options.memory };
  const shape = `${describeShape(options)} (${describeConfig(config)}), 1 gate`;
  const load = `${options.connections} connections, ${options.durationS} s per scenario, ${options.valueBytes}-byte values`;
  const compared =
    options.against !== undefined
      ? `against ${options.against}, ${options.rounds} interleaved rounds`
      : options.security
        ? `plain, auth, tls and auth+tls side by side, ${options.rounds} interleaved rounds`
        : options.pipeline
          ? `--appends-in-flight ${options.windows.join(', ')} side by side, ${options.rttMs} ms added round trip, ${options.rounds} interleaved rounds`
          : `${options.rounds} interleaved rounds of the headline ratios`;
  const what = options.reshard ? `resharding: ${describeReshard(options, config)}` : `${shape}; ${load}; ${compared}`;
  const suite = options.reshard ? 'reshard' : options.against !== undefined ? 'compare' : options.security ? 'security' : options.pipeline ? 'pipeline' : 'cluster';
  console.log(`kvstore cluster bench${options.smoke ? ' (--smoke)' : ''}: ${what}; node ${process.version}, ${os.cpus().length} cpus; work dir ${run.dir}`);
  let reshard: ReshardResult | undefined;
  let compare: CompareResult | undefined;
  try {
    if (options.reshard) reshard = await runReshard(run);
    else if (options.against !== undefined) compare = await runCompare(run, options.against);
    else if (options.security) await runSecurity(run);
    else if (options.pipeline) await runPipeline(run);
    else await runAll(run);
  } finally {
    await run.lifecycle.stopAll();
  }

  if (options.reshard) printReshardTable(`Resharding: ${describeReshard(options, config)}`, run.rows, reshard);
  else if (suite === 'cluster') {
    addRatios(run.rows);
    printMainTable(`Cluster bench: ${shape}; ${load}, one pass`, run.rows);
    printScalingTables(run.rows);
  }
  for (const result of run.rounds) printRounds(result);
  const failed = [...run.failures, ...run.rows.filter((row) => row.failure).map((row) => `${row.name}: ${row.failure}`)];
  const totalSeconds = (performance.now() - started) / 1000;
  const results = {
    suite,
    startedAt: startedAt.toISOString(),
    totalSeconds,
    machine: machineInfo(),
    options,
    rows: run.rows,
    rounds: run.rounds,
    ...(options.reshard && { reshard: reshard ?? null }),
    ...(options.against !== undefined && { compare: compare ?? null }),
    failures: failed,
  };
  const charted = suite === 'cluster' ? mainRows(run.rows) : run.rows;
  const files = writeResults(resultsStem(options.outDir, startedAt, suite), results, chartSvg(`kvstore cluster bench: ${what}`, charted));
  if (options.cpuProfDir) printProfileSummaries(options.cpuProfDir, startedAt, run.processNames);
  console.log(`\n${totalSeconds.toFixed(0)} s (load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')}); results in ${files.join(' and ')}`);
  if (failed.length > 0) {
    console.error(`\n${failed.length} part(s) failed:\n${failed.map((line) => `  ${line.split('\n')[0]}`).join('\n')}\nlogs kept in ${run.dir}`);
    return 1;
  }
  fs.rmSync(run.dir, { recursive: true, force: true });
  return 0;
}

// Anything main did not expect rejects, and Node prints it and exits 1 (after main stopped what it started).
void main().then((code) => {
  process.exitCode = code;
});
