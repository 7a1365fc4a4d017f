/**
 * The resharding scenario (`npm run bench -- reshard`): a cluster of the
 * first of `--reshard-steps` partitions, loaded with `--reshard-keys` keys,
 * takes a mixed load through the gate; after a baseline window it goes
 * through the steps (reshard-steps.ts) under that load: a partition joins by
 * starting its replicas (`--join auto`: they start the migration that moves
 * about 1/N of the slots to it), or leaves through the gate's admin route
 * (its replicas are stopped once it is off the ring). Each step runs until
 * its migration is done, then the load goes on for a short steady window.
 * What the clients saw in each phase becomes a row; the migrations' own
 * figures come from the gate's view. With the load stopped, every key is
 * read back and compared with its last acknowledged write (read-back.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MigrationView } from '@kvstore/protocol';
import { load, section, type Run } from './context';
import { describeConfig, keysByLeader, type ClusterConfig, type KvCluster } from './kvcluster';
import { AnswerLog } from './answer-log';
import { KeyLedger } from './key-ledger';
import { runLoad } from './load';
import { per10k } from './measure';
import { waitFor } from '@kvstore/testkit/harness';
import { CpuByPhase } from './phase-cpu';
import { withCluster, startBenchZooKeeper } from './plan';
import { readBack } from './read-back';
import { phaseWindows, rowName, stepPhase, summarize, type ReshardResult, type StepMarks } from './reshard-result';
import { planSteps, stepName, type ReshardStep } from './reshard-steps';

/** The client mix: the rest are strong GETs. */
export const RESHARD_MIX = { put: 0.4, delete: 0.1 } as const;

/** How often the gate's view is read for the migration's state. */
const POLL_MS = 100;

/**
 * Reads the gate's view until the migration of `step` is done; `onRunning`
 * is called each time it is seen running. Throws if it is aborted, if what
 * starts it (`starting`) fails, or after `timeoutMs`.
 */
async function followMigration(cluster: KvCluster, step: ReshardStep, starting: Promise<unknown>, onRunning: () => void, timeoutMs: number): Promise<MigrationView> {
  let startFailure: unknown;
  starting.catch((error: unknown) => (startFailure = error));
  const deadline = Date.now() + timeoutMs;
  const what = `the migration that ${step.kind}s ${step.partition}`;
  let last = 'no migration yet';
  for (;;) {
    if (startFailure) throw startFailure;
    const migration = (await cluster.view()).migration;
    if (migration?.kind === step.kind && migration.partition === step.partition) {
      if (migration.state === 'done') return migration;
      if (migration.state !== 'running') throw new Error(`${what} is ${migration.state}`);
      onRunning();
      last = `${migration.slotsMoved}/${migration.slotsTotal} slots, ${migration.keysMoved} keys moved`;
    }
    if (Date.now() >= deadline) throw new Error(`${what} is not done after ${timeoutMs / 1000} s (${last})`);
    await sleep(POLL_MS);
  }
}

/** Runs one step under the load, to the end of its migration and its steady window after. */
async function runStep(run: Run, cluster: KvCluster, step: ReshardStep, cpu: CpuByPhase): Promise<StepMarks> {
  const how = step.kind === 'add' ? `starting the replicas of ${step.partition}` : `removing ${step.partition} through the gate`;
  console.log(`  ${stepName(step)} (${step.from} → ${step.to} partitions): ${how}`);
  const startedAt = Date.now();
  cpu.enter(stepPhase(step, 'starting'));
  const starting = step.kind === 'add' ? cluster.addPartition(step.partition) : cluster.removePartition(step.partition);
  // The bound only keeps a stuck migration from hanging the run: a millisecond per key and a minute.
  const migration = await followMigration(cluster, step, starting, () => cpu.enter(stepPhase(step, 'during')), 60_000 + run.options.reshardKeys);
  cpu.enter(stepPhase(step, 'after'));
  await starting;
  if (step.kind === 'add') for (const [pid, name] of cluster.processNames()) run.processNames.set(pid, name);
  else await cluster.stopPartition(step.partition);
  const seconds = (migration.finishedAt! - migration.startedAt) / 1000;
  console.log(`  ${stepName(step)}: done, ${migration.keysMoved.toLocaleString('en-US')} keys in ${seconds.toFixed(1)} s, longest write pause ${migration.pauseMsMax} ms`);
  await sleep(Math.min(run.options.durationS, 5) * 1000);
  return { step, startedAt, migration };
}

/**
 * Loads the keys, runs the steps under the mixed load, stops the load and
 * reads every key back; the rows of the phases go to run.rows, and a lost,
 * stale or unreadable key to run.failures.
 */
async function reshardUnderLoad(run: Run, cluster: KvCluster): Promise<ReshardResult> {
  const { options } = run;
  const keys = options.reshardKeys;
  const ledger = new KeyLedger(keys, options.valueBytes, RESHARD_MIX);
  const loadSeconds = await load(run, keysByLeader(await cluster.view(), 0, keys), (n) => ledger.loadPut(n));
  const answers = new AnswerLog();
  const cpu = new CpuByPhase(cluster);
  const stopLoad = new AbortController();
  const loadStartedAt = Date.now();
  cpu.enter('before');
  const loading = runLoad({
    url: cluster.url,
    connections: options.connections,
    until: stopLoad.signal,
    next: () => ledger.next(),
    onAnswer: (request, status, ms, body) => {
      answers.answered(request, status, ms, body);
      ledger.answered(request, status, body);
    },
    onNoAnswer: () => answers.unanswered(),
  });
  const marks: StepMarks[] = [];
  let stoppedAt: number;
  try {
    console.log(`  before: ${options.durationS} s of load`);
    await sleep(options.durationS * 1000);
    for (const step of planSteps(options.reshardSteps)) marks.push(await runStep(run, cluster, step, cpu));
  } finally {
    stoppedAt = Date.now();
    cpu.enter(undefined);
    ledger.stopWriting();
    // Bounded by autocannon's own timeout: a write that got no answer never will, and stays of unknown outcome.
    await waitFor(() => ledger.writesAnswered(), { timeoutMs: 10_000, intervalMs: 20 }).catch(() => undefined);
    stopLoad.abort();
    await loading;
  }
  const rows = phaseWindows(loadStartedAt, marks, stoppedAt).map(({ phase, from, to }) => {
    const row = answers.window(rowName(phase), from, to, options.connections);
    const cpuSeconds = cpu.of(phase);
    return cpuSeconds && row.requests > 0 ? { ...row, cpuSeconds, cpuPer10k: per10k(cpuSeconds, row.requests) } : row;
  });
  run.rows.push(...rows);

  console.log(`  the load is stopped: reading every key back (strong GETs through the gate)`);
  const check = await readBack(cluster.url, ledger, options.connections);
  const { lost, stale, unreadable } = check;
  if (lost + stale + unreadable > 0) {
    run.failures.push(`read back: ${lost} lost, ${stale} stale, ${unreadable} unreadable of ${keys} keys; ${check.examples.join('; ')}`);
  }
  return { keys, loadSeconds, ...summarize(rows, marks, answers, stoppedAt, options.connections), check };
}

/** The title of the scenario, for the tables and the chart. */
export function describeReshard(options: Run['options'], config: ClusterConfig): string {
  const mix = `${Math.round((1 - RESHARD_MIX.put - RESHARD_MIX.delete) * 100)}/${RESHARD_MIX.put * 100}/${RESHARD_MIX.delete * 100} GET strong/PUT/DELETE`;
  const keys = `${options.reshardKeys.toLocaleString('en-US')} keys of ${options.valueBytes} bytes`;
  const shape = `${options.reshardSteps.join(' → ')} partitions × ${options.replicas} replicas`;
  return `${shape} (${describeConfig(config)}) under load; ${keys}; ${options.connections} connections, ${mix}`;
}

/** Runs the scenario on a private ZooKeeper; undefined if it failed (the failure is in run.failures). */
export async function runReshard(run: Run): Promise<ReshardResult | undefined> {
  const zookeeper = await startBenchZooKeeper(run);
  if (!zookeeper) return undefined;
  const { options } = run;
  const config: ClusterConfig = { replication: options.replication, fsync: options.fsync, memory: options.memory };
  const serverArgs = options.migrationRate === undefined ? [] : ['--migration-rate', String(options.migrationRate)];
  let result: ReshardResult | undefined;
  await section(run, `Resharding: ${describeReshard(options, config)}`, () =>
    withCluster(
      run,
      zookeeper,
      config,
      async (cluster) => {
        result = await reshardUnderLoad(run, cluster);
      },
      { serverArgs },
    ),
  );
  return result;
}
