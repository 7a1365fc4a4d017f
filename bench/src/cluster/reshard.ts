/**
 * The resharding scenario (`npm run bench -- reshard`): a cluster of
 * `--partitions` partitions loaded with `--reshard-keys` keys takes a mixed
 * load through the gate; after a baseline window, the replicas of one more
 * partition are started (`--join auto`: they start the migration that moves
 * about 1/N of the slots to it) while the load goes on, until the migration
 * is done, and for a short window after. What the clients saw in each phase
 * becomes a row; the migration's own figures come from the gate's view.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MigrationView } from '@kvstore/protocol';
import { loadCluster, section, type Run } from './context';
import { describeConfig, type ClusterConfig, type KvCluster } from './kvcluster';
import { Latencies, runLoad, type RequestShape } from './load';
import type { Row } from './measure';
import { describeShape } from './options';
import { startBenchZooKeeper, withCluster } from './plan';
import { uniformKeys } from './workload';

/** The client mix: the rest are strong GETs. */
export const RESHARD_MIX = { put: 0.4, delete: 0.1 } as const;

/** The phases of the load, in order; `joining`: the new replicas start, no migration seen yet. */
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

/** Status codes the contract allows under this load: 404 (a GET after a DELETE) and 412 (a failed compare-and-set). */
const isExpected = (status: number): boolean => (status >= 200 && status < 300) || status === 404 || status === 412;

/** The `code` of an error answer's JSON body, or what the body starts with. */
function errorCode(body: string): string {
  try {
    return String((JSON.parse(body) as { error: { code: unknown } }).error.code);
  } catch {
    return JSON.stringify(body.slice(0, 60));
  }
}

/** What the clients saw in one phase. */
class PhaseRecorder {
  private readonly all = new Latencies();
  private readonly writes = new Latencies();
  private readonly statusCodes: Record<string, number> = {};
  /** The errors by status and error code: "503 UNAVAILABLE". */
  private readonly errorCodes: Record<string, number> = {};
  private requests = 0;
  private errors = 0;
  private noAnswer = 0;
  private readonly startedAt = performance.now();
  private endedAt: number | undefined;

  constructor(readonly phase: Phase) {}

  answered(request: RequestShape, status: number, ms: number, body: string): void {
    this.requests++;
    this.all.add(ms);
    if (request.method !== 'GET') this.writes.add(ms);
    this.statusCodes[status] = (this.statusCodes[status] ?? 0) + 1;
    if (!isExpected(status)) this.error(`${status} ${errorCode(body)}`);
  }

  unanswered(): void {
    this.noAnswer++;
    this.error('no answer');
  }

  private error(kind: string): void {
    this.errors++;
    this.errorCodes[kind] = (this.errorCodes[kind] ?? 0) + 1;
  }

  end(): void {
    this.endedAt ??= performance.now();
  }

  row(connections: number): Row {
    const elapsedS = ((this.endedAt ?? performance.now()) - this.startedAt) / 1000;
    return {
      name: `reshard ${this.phase}`,
      group: 'reshard',
      connections,
      durationS: elapsedS,
      requests: this.requests,
      elapsedS,
      reqPerSec: this.requests / elapsedS,
      latencyMs: this.all.summary(),
      writeLatencyMs: this.writes.summary(),
      errors: this.errors,
      connectionErrors: this.noAnswer,
      statusCodes: this.statusCodes,
      errorCodes: this.errorCodes,
    };
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

/** Loads the keys, then adds partition p<partitions> under the mixed load; the phases' rows go to run.rows. */
async function addPartitionUnderLoad(run: Run, cluster: KvCluster): Promise<ReshardResult> {
  const { options } = run;
  const keys = options.reshardKeys;
  const loadSeconds = await loadCluster(run, cluster, 0, keys);
  const partition = `p${options.partitions}`;
  const phases = [new PhaseRecorder('before')];
  const current = (): PhaseRecorder => phases[phases.length - 1]!;
  const enter = (phase: Phase): void => {
    if (current().phase === phase) return;
    current().end();
    phases.push(new PhaseRecorder(phase));
    console.log(`  ${phase}`);
  };
  const stopLoad = new AbortController();
  const loading = runLoad({
    url: cluster.url,
    connections: options.connections,
    until: stopLoad.signal,
    next: run.workload.kvReadWriteDelete(uniformKeys(keys), RESHARD_MIX),
    onAnswer: (request, status, ms, body) => current().answered(request, status, ms, body),
    onNoAnswer: () => current().unanswered(),
  });
  let migration: MigrationView;
  try {
    console.log(`  before: ${options.durationS} s of load`);
    await sleep(options.durationS * 1000);
    enter('joining');
    const starting = cluster.addPartition(partition);
    // The bound only keeps a stuck migration from hanging the run: a millisecond per key and a minute.
    migration = await followMigration(cluster, partition, starting, () => enter('during'), 60_000 + keys);
    enter('after');
    await starting;
    for (const [pid, name] of cluster.processNames()) run.processNames.set(pid, name);
    await sleep(Math.min(options.durationS, 5) * 1000);
  } finally {
    current().end();
    stopLoad.abort();
    await loading;
  }
  const rows = phases.map((phase) => phase.row(options.connections));
  run.rows.push(...rows);
  const rate = (phase: Phase): number | undefined => rows.find((row) => row.name === `reshard ${phase}` && row.requests! > 0)?.reqPerSec;
  const before = rate('before');
  const during = rate('during');
  return {
    keys,
    loadSeconds,
    partitionAdded: partition,
    migration,
    migrationSeconds: (migration.finishedAt! - migration.startedAt) / 1000,
    throughputRatio: before && during ? during / before : null,
    worstWriteMsDuring: rows.find((row) => row.name === 'reshard during')?.writeLatencyMs?.max ?? NaN,
    clientErrors: rows.reduce((sum, row) => sum + row.errors!, 0),
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
