/**
 * The resharding scenario (`npm run bench -- reshard`): a cluster of
 * `--partitions` partitions loaded with `--reshard-keys` keys takes a mixed
 * load through the gate; after a baseline window, the replicas of one more
 * partition are started (`--join auto`: they start the migration that moves
 * about 1/N of the slots to it) while the load goes on, until the migration
 * is done, and for a short window after. What the clients saw in each phase
 * becomes a row; the migration's own figures come from the gate's view.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MigrationView } from '@kvstore/protocol';
import { loadCluster, section, type Run } from './context';
import { describeConfig, type ClusterConfig, type KvCluster } from './kvcluster';
import { AnswerLog, type WindowRow } from './answer-log';
import { runLoad } from './load';
import { startCpuMeter, type CpuSeconds } from './cpu';
import { per10k } from './measure';
import { describeShape } from './options';
import { startBenchZooKeeper, withCluster } from './plan';
import { uniformKeys } from './workload';

/** The client mix: the rest are strong GETs. */
export const RESHARD_MIX = { put: 0.4, delete: 0.1 } as const;

/** The phases of the load, in order; `joining`: from starting the new replicas to the migration's start. */
export const PHASES = ['before', 'joining', 'during', 'after'] as const;
export type Phase = (typeof PHASES)[number];

/** How often the gate's view is read for the migration's state. */
const POLL_MS = 100;

export interface ReshardResult {
  /** Keys loaded before the partition was added, and how long that took. */
  keys: number;
  loadSeconds: number;
  partitionAdded: string;
  /** The migration as the gate showed it once done. */
  migration: MigrationView;
  /** finishedAt − startedAt of the migration, in seconds. */
  migrationSeconds: number;
  /** Client req/s during the migration over req/s before it; null when no answer came during it. */
  throughputRatio: number | null;
  /** The slowest PUT or DELETE answered during the migration, in ms. */
  worstWriteMsDuring: number;
  /** Over every phase: requests without an answer, or answered other than 2xx, 404 or 412. */
  clientErrors: number;
}

/**
 * CPU time of the cluster's processes per phase, from when the bench sees
 * each phase begin (it reads the gate's view every POLL_MS) to when it sees
 * the next.
 */
class CpuByPhase {
  private readonly used = new Map<Phase, CpuSeconds>();
  private phase: Phase | undefined;
  private stop: (() => CpuSeconds) | undefined;

  constructor(private readonly cluster: KvCluster) {}

  /** Ends the count of the phase before; counts `phase` (none: stop) from when the processes are known. */
  enter(phase: Phase | undefined): void {
    if (this.phase === phase) return;
    if (this.phase && this.stop) this.used.set(this.phase, this.stop());
    this.phase = phase;
    this.stop = undefined;
    if (!phase) return;
    void this.cluster.tracked().then(
      (processes) => {
        if (this.phase === phase) this.stop = startCpuMeter(processes);
      },
      () => undefined,
    );
  }

  of(phase: Phase): CpuSeconds | undefined {
    return this.used.get(phase);
  }
}

/**
 * Reads the gate's view until the `add` migration of `partition` is done;
 * `onRunning` is called each time it is seen running. Throws if it is
 * aborted, if the new replicas fail to start, or after `timeoutMs`.
 */
async function followMigration(cluster: KvCluster, partition: string, starting: Promise<void>, onRunning: () => void, timeoutMs: number): Promise<MigrationView> {
  let startFailure: unknown;
  starting.catch((error: unknown) => (startFailure = error));
  const deadline = Date.now() + timeoutMs;
  let last = 'no migration yet';
  for (;;) {
    if (startFailure) throw startFailure;
    const migration = (await cluster.view()).migration;
    if (migration?.kind === 'add' && migration.partition === partition) {
      if (migration.state === 'done') return migration;
      if (migration.state !== 'running') throw new Error(`the migration that adds ${partition} is ${migration.state}`);
      onRunning();
      last = `${migration.slotsMoved}/${migration.slotsTotal} slots, ${migration.keysMoved} keys moved`;
    }
    if (Date.now() >= deadline) throw new Error(`the migration that adds ${partition} is not done after ${timeoutMs / 1000} s (${last})`);
    await sleep(POLL_MS);
  }
}

/**
 * Loads the keys, then adds partition p<partitions> under the mixed load;
 * the rows of the phases, cut by the migration's own start and end, go to
 * run.rows.
 */
async function addPartitionUnderLoad(run: Run, cluster: KvCluster): Promise<ReshardResult> {
  const { options } = run;
  const keys = options.reshardKeys;
  const loadSeconds = await loadCluster(run, cluster, 0, keys);
  const partition = `p${options.partitions}`;
  const answers = new AnswerLog();
  const cpu = new CpuByPhase(cluster);
  const stopLoad = new AbortController();
  const loadStartedAt = Date.now();
  cpu.enter('before');
  const loading = runLoad({
    url: cluster.url,
    connections: options.connections,
    until: stopLoad.signal,
    next: run.workload.kvReadWriteDelete(uniformKeys(keys), RESHARD_MIX),
    onAnswer: (request, status, ms, body) => answers.answered(request, status, ms, body),
    onNoAnswer: () => answers.unanswered(),
  });
  let joinedAt: number;
  let stoppedAt: number;
  let migration: MigrationView;
  try {
    console.log(`  before: ${options.durationS} s of load`);
    await sleep(options.durationS * 1000);
    console.log(`  joining: starting the replicas of ${partition}`);
    joinedAt = Date.now();
    cpu.enter('joining');
    const starting = cluster.addPartition(partition);
    // The bound only keeps a stuck migration from hanging the run: a millisecond per key and a minute.
    migration = await followMigration(cluster, partition, starting, () => cpu.enter('during'), 60_000 + keys);
    cpu.enter('after');
    console.log(`  after: the migration is done`);
    await starting;
    for (const [pid, name] of cluster.processNames()) run.processNames.set(pid, name);
    await sleep(Math.min(options.durationS, 5) * 1000);
  } finally {
    stoppedAt = Date.now();
    cpu.enter(undefined);
    stopLoad.abort();
    await loading;
  }
  // Clamped, so that the windows follow each other even if a clock stepped.
  const startedAt = Math.max(joinedAt, migration.startedAt);
  const finishedAt = Math.max(startedAt, migration.finishedAt!);
  const bounds: Record<Phase, [number, number]> = {
    before: [loadStartedAt, joinedAt],
    joining: [joinedAt, startedAt],
    during: [startedAt, finishedAt],
    after: [finishedAt, stoppedAt],
  };
  const rows = PHASES.map((phase) => {
    const row = answers.window(`reshard ${phase}`, ...bounds[phase], options.connections);
    const cpuSeconds = cpu.of(phase);
    return cpuSeconds ? { ...row, cpuSeconds, cpuPer10k: per10k(cpuSeconds, row.requests) } : row;
  });
  run.rows.push(...rows);
  const [before, , during] = rows as [WindowRow, WindowRow, WindowRow, WindowRow];
  return {
    keys,
    loadSeconds,
    partitionAdded: partition,
    migration,
    migrationSeconds: (migration.finishedAt! - migration.startedAt) / 1000,
    throughputRatio: before.requests > 0 && during.requests > 0 ? during.reqPerSec / before.reqPerSec : null,
    worstWriteMsDuring: during.writeLatencyMs.max,
    clientErrors: rows.reduce((sum, row) => sum + row.errors, 0),
  };
}

/** The title of the scenario, for the tables and the chart. */
export function describeReshard(options: Run['options'], config: ClusterConfig): string {
  const mix = `${Math.round((1 - RESHARD_MIX.put - RESHARD_MIX.delete) * 100)}/${RESHARD_MIX.put * 100}/${RESHARD_MIX.delete * 100} GET strong/PUT/DELETE`;
  const keys = `${options.reshardKeys.toLocaleString('en-US')} keys of ${options.valueBytes} bytes`;
  return `${describeShape(options)} (${describeConfig(config)}) + p${options.partitions} under load; ${keys}; ${options.connections} connections, ${mix}`;
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
        result = await addPartitionUnderLoad(run, cluster);
      },
      serverArgs,
    ),
  );
  return result;
}
