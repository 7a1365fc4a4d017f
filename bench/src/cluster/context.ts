import { performance } from 'node:perf_hooks';
import { keysByLeader, type KvCluster } from './kvcluster';
import type { Lifecycle } from './lifecycle';
import { prefill, runLoad } from './load';
import { runScenario, type Endpoint, type Row, type Scenario } from './measure';
import type { ClusterBenchOptions } from './options';
import { progressLine } from './report';
import type { RoundsResult } from './rounds';
import { uniformKeys, type Workload } from './workload';

/** The state of one bench run, handed to each of its parts. */
export interface Run {
  options: ClusterBenchOptions;
  lifecycle: Lifecycle;
  /** Temp dir: logs and data of everything started. */
  dir: string;
  workload: Workload;
  rows: Row[];
  /** What each set of interleaved rounds came to (rounds.ts). */
  rounds: RoundsResult[];
  /** Parts that could not run, with why. */
  failures: string[];
  /** Pid to process name, to name the CPU profiles. */
  processNames: Map<number, string>;
}

export async function measure(run: Run, scenarios: Scenario[]): Promise<void> {
  for (const scenario of scenarios) {
    if (run.lifecycle.stopping) return;
    const row = await runScenario(scenario);
    run.rows.push(row);
    console.log(progressLine(row));
  }
}

/** Runs one part of the bench; a failure is recorded and reported, and the run goes on with the next part (unless it is being stopped). */
export async function section(run: Run, title: string, body: () => Promise<void>): Promise<void> {
  if (run.lifecycle.stopping) return;
  console.log(`\n${title}`);
  try {
    await body();
  } catch (error) {
    if (run.lifecycle.stopping) return;
    run.failures.push(`${title}: ${(error as Error).message}`);
    console.error(`  FAILED: ${(error as Error).message}`);
  }
}

/** Writes every key of every part (an endpoint and the keys to write there), the parts side by side; says how long it took. */
export async function load(run: Run, parts: Array<Endpoint & { keys: number[] }>, put = (n: number) => run.workload.kvPutOf(n)): Promise<number> {
  const started = performance.now();
  const connections = Math.max(8, Math.floor(run.options.loaderConnections / parts.length));
  await Promise.all(parts.map((part) => prefill({ ...part, connections }, put)));
  const seconds = (performance.now() - started) / 1000;
  const count = parts.reduce((sum, part) => sum + part.keys.length, 0);
  console.log(`  loaded ${count.toLocaleString('en-US')} keys in ${seconds.toFixed(1)} s (${Math.round(count / seconds).toLocaleString('en-US')}/s)`);
  return seconds;
}

/** Loads keys first..first+count-1 straight into the partition leaders: quicker than through the gate. */
export async function loadCluster(run: Run, cluster: KvCluster, first: number, count: number): Promise<number> {
  const leaders = keysByLeader(await cluster.view(), first, count);
  return load(run, leaders.map((leader) => ({ ...leader, access: cluster.access })));
}

/**
 * A second of PUTs, then one of GETs, of the hot keys (loaded by the
 * caller), not measured: the first row would otherwise pay for compiling the
 * servers' hot paths.
 */
export async function warmUp(run: Run, endpoint: Endpoint): Promise<void> {
  const keys = uniformKeys(run.options.hotKeys);
  for (const next of [run.workload.kvPut(keys), run.workload.kvGet(keys, 'strong')]) {
    await runLoad({ url: endpoint.url, access: endpoint.access, send: endpoint.send, connections: run.options.connections, durationS: 1, next });
  }
}

export const range = (count: number): number[] => Array.from({ length: count }, (_, n) => n);
