/**
 * `npm run bench -- pipeline`: what several appends in flight per follower
 * (kvserver --appends-in-flight, docs/replication.md) buy when the followers
 * are far away. One cluster of this build per window, the same shape and
 * config, all up at once on one ZooKeeper, each replica reached through a
 * proxy that adds --rtt-ms to every round trip to it (the gate's and its
 * peers'), measured in interleaved rounds of gate PUT against the first
 * window. On loopback (--rtt-ms 0) an append's round trip is shorter than
 * the fsync that follows it, so the window hardly shows; a link's delay is
 * what it is for.
 */
import { section, type Run } from './context';
import { describeConfig, type ClusterConfig } from './kvcluster';
import { startBenchZooKeeper, withClusters } from './plan';
import { runRounds } from './rounds';
import { uniformKeys } from './workload';

export async function runPipeline(run: Run): Promise<void> {
  const zookeeper = await startBenchZooKeeper(run);
  if (!zookeeper) return;
  const { options } = run;
  const config: ClusterConfig = { replication: options.replication, fsync: options.fsync, memory: options.memory };
  const link = options.rttMs === 0 ? 'loopback' : `+${options.rttMs} ms round trip to each replica`;
  await section(run, `Pipelining: --appends-in-flight ${options.windows.join(', ')}, ${link}, ${options.rounds} interleaved rounds`, async () => {
    const specs = options.windows.map((window) => ({ config, extras: { serverArgs: ['--appends-in-flight', String(window)], rttMs: options.rttMs } }));
    await withClusters(run, zookeeper, specs, async (clusters) => {
      const keys = uniformKeys(options.hotKeys);
      const entrants = clusters.map((target, index) => ({ label: `window ${options.windows[index]}`, target, next: run.workload.kvPut(keys) }));
      await runRounds(run, `Pipelining: appends in flight per follower, ${link}`, [{ workload: `gate PUT (${describeConfig(config)}, ${link})`, entrants }]);
    });
  });
}
