/**
 * `npm run bench -- compare --against <rev>`: this checkout against another
 * commit's build, side by side on one ZooKeeper, in interleaved rounds.
 * One pass of rows one after another does not repeat on a small, noisy
 * host (the same commit measured 0.36× and 0.70× of a baseline in two
 * runs); rounds that alternate baseline and candidate, and which goes
 * first, put both under the same noise, so the median of the per-round
 * ratios, with its spread, is a figure to steer by. CPU seconds per 10k
 * requests per process kind stands beside it: it holds still where
 * throughput does not.
 */
import * as path from 'node:path';
import { formatCell, printTable, type Cell } from '../common';
import { measure, section, type Run } from './context';
import { PROCESS_KINDS } from './cpu';
import { describeConfig, type ClusterConfig, type KvCluster } from './kvcluster';
import type { Row, Scenario } from './measure';
import { startBenchZooKeeper, withCluster } from './plan';
import { buildRevision } from './revision-build';
import { uniformKeys } from './workload';

export interface CompareResult {
  baseline: { revision: string; commit: string };
  /** Per workload: candidate/baseline req/s of each round, and their median, min and max. */
  ratios: Array<{ workload: string; rounds: number[]; median: number; min: number; max: number }>;
}

const SIDES = ['baseline', 'candidate'] as const;
type Side = (typeof SIDES)[number];

/** "gate GET strong [baseline]": a compare row's name. */
const rowName = (workload: string, side: Side): string => `${workload} [${side}]`;

function workloads(run: Run, cluster: KvCluster): Array<{ name: string; next: Scenario['next'] }> {
  const keys = uniformKeys(run.options.hotKeys);
  return [
    { name: 'gate GET strong', next: run.workload.kvGet(keys, 'strong') },
    { name: `gate PUT (${describeConfig(cluster.options.config)})`, next: run.workload.kvPut(keys) },
  ];
}

/** Each round runs every workload on both sides, the side that goes first alternating by round. */
async function rounds(run: Run, clusters: Record<Side, KvCluster>): Promise<void> {
  const { connections, durationS, rounds: count } = run.options;
  for (let round = 0; round < count; round++) {
    const order = round % 2 === 0 ? SIDES : ([...SIDES].reverse() as Side[]);
    for (const side of order) {
      const scenarios = workloads(run, clusters[side]).map(({ name, next }) => ({
        name: rowName(name, side),
        group: 'compare' as const,
        target: clusters[side],
        next,
        connections,
        durationS,
      }));
      await measure(run, scenarios);
    }
  }
}

export async function runCompare(run: Run, revision: string): Promise<CompareResult | undefined> {
  const zookeeper = await startBenchZooKeeper(run);
  if (!zookeeper) return undefined;
  const { options } = run;
  const config: ClusterConfig = { replication: options.replication, fsync: options.fsync, memory: options.memory };
  let result: CompareResult | undefined;
  await section(run, `Compare: this checkout against ${revision}, ${options.rounds} interleaved rounds`, async () => {
    console.log(`  building ${revision} ...`);
    const build = buildRevision(revision, run.dir);
    run.lifecycle.track({ stop: async () => build.remove() });
    console.log(`  built ${build.commit.slice(0, 12)} in ${path.relative(run.dir, build.root)}`);
    await withCluster(run, zookeeper, config, (baseline) =>
      withCluster(run, zookeeper, config, async (candidate) => {
        await rounds(run, { baseline, candidate });
        result = { baseline: { revision, commit: build.commit }, ratios: ratiosOf(run.rows, workloads(run, candidate).map((workload) => workload.name)) };
      }),
      { programRoot: build.root },
    );
  });
  return result;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The candidate's req/s over the baseline's, round by round (rows come in round order, both sides of a round before the next). */
export function ratiosOf(rows: Row[], names: string[]): CompareResult['ratios'] {
  return names.flatMap((workload) => {
    const rates = (side: Side): number[] => rows.filter((row) => row.name === rowName(workload, side) && !row.failure).map((row) => row.reqPerSec!);
    const [baseline, candidate] = [rates('baseline'), rates('candidate')];
    const rounds = candidate.slice(0, baseline.length).map((rate, index) => rate / baseline[index]!);
    if (rounds.length === 0) return [];
    return [{ workload, rounds, median: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds) }];
  });
}

/** The medians of every round of one side: req/s, p99 and CPU per 10k by process kind. */
function sideCells(rows: Row[], workload: string, side: Side): Cell[] {
  const mine = rows.filter((row) => row.name === rowName(workload, side) && !row.failure);
  if (mine.length === 0) return ['FAILED', '-', '-', '-', '-'];
  const of = (pick: (row: Row) => number | undefined): Cell => {
    const values = mine.map(pick).filter((value): value is number => value !== undefined);
    return values.length === 0 ? '-' : median(values);
  };
  return [of((row) => row.reqPerSec), of((row) => row.latencyMs?.p99), ...(['gate', 'leader', 'followers'] as const).map((kind) => of((row) => row.cpuPer10k?.[kind]))];
}

export function printCompareTable(rows: Row[], result: CompareResult | undefined): void {
  if (!result) return;
  const short = result.baseline.commit.slice(0, 12);
  printTable(
    `Compare: this checkout (candidate) against ${result.baseline.revision} (${short}), medians of ${result.ratios[0]?.rounds.length ?? 0} interleaved rounds`,
    ['workload', 'side', 'req/s', 'p99', 'gate', 'leader', 'followers', 'ratio (min–max)'],
    result.ratios.flatMap((ratio) =>
      SIDES.map((side): Cell[] => [
        ratio.workload,
        side,
        ...sideCells(rows, ratio.workload, side),
        side === 'candidate' ? `${ratio.median.toFixed(3)}× (${ratio.min.toFixed(3)}–${ratio.max.toFixed(3)})` : '',
      ]),
    ),
  );
  console.log(`latency in ms; CPU in seconds per 10,000 requests (${PROCESS_KINDS.slice(0, 3).join(', ')}); ratio: candidate req/s over baseline req/s in the same round`);
  for (const ratio of result.ratios) console.log(`${ratio.workload}: rounds ${ratio.rounds.map((value) => formatCell(value)).join(', ')}`);
}
