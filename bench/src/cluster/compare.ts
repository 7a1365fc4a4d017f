import * as path from 'node:path';
import { section, type Run } from './context';
import { describeConfig, type ClusterConfig, type KvCluster } from './kvcluster';
import { startBenchZooKeeper, withClusters } from './plan';
import { buildRevision } from './revision-build';
import { runRounds, type Comparison } from './rounds';
import { uniformKeys } from './workload';

/** The commit the candidate (this checkout) was compared with; the figures are in run.rounds. */
export interface CompareResult {
  baseline: { revision: string; commit: string };
}

/** Gate GET strong and gate PUT, on the other build's cluster (the reference) and on this one's. */
function comparisons(run: Run, clusters: { baseline: KvCluster; candidate: KvCluster }): Comparison[] {
  const keys = uniformKeys(run.options.hotKeys);
  const sides = Object.entries(clusters);
  return [
    { workload: 'gate GET strong', entrants: sides.map(([label, target]) => ({ label, target, next: run.workload.kvGet(keys, 'strong') })) },
    { workload: `gate PUT (${describeConfig(clusters.candidate.options.config)})`, entrants: sides.map(([label, target]) => ({ label, target, next: run.workload.kvPut(keys) })) },
  ];
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
    await withClusters(run, zookeeper, [{ config, extras: { programRoot: build.root } }, { config }], async ([baseline, candidate]) => {
      const title = `Compare: this checkout (candidate) against ${revision} (baseline, ${build.commit.slice(0, 12)})`;
      await runRounds(run, title, comparisons(run, { baseline: baseline!, candidate: candidate! }));
      result = { baseline: { revision, commit: build.commit } };
    });
  });
  return result;
}
