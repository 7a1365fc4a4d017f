/**
 * What a cluster bench run does, in order: the node:http baselines, a
 * private ZooKeeper, the main kvstore cluster (through the gate, straight to
 * a leader, against connections), the async and fsync-off variants and the
 * GET-against-keys rows, then etcd.
 */
import * as path from 'node:path';
import { BaselineServer } from './baselines';
import { load, loadCluster, measure, range, section, warmUp, type Run } from './context';
import { Etcd, etcdInstalled } from './etcd';
import { freePort, startZooKeeper, type ZooKeeperHandle } from '@kvstore/testkit/harness';
import { describeConfig, KvCluster, type ClusterConfig, type ClusterSecurity } from './kvcluster';
import { describeShape } from './options';
import { runRounds } from './rounds';
import {
  baselineScenarios,
  connectionScenarios,
  directScenarios,
  etcdScenarios,
  gateScenarios,
  headlineComparisons,
  keysScenario,
  variantScenario,
  type HeadlineTargets,
} from './scenarios';
import { selfRoutingLoad, selfRoutingScenarios, type SelfRoutingLoad } from './self-routing';

async function baselines(run: Run): Promise<void> {
  const logs = path.join(run.dir, 'logs');
  const fixed = run.lifecycle.track(await BaselineServer.start('fixed', logs));
  const map = run.lifecycle.track(await BaselineServer.start('map', logs));
  try {
    await load(run, [{ url: map.url, keys: range(run.options.hotKeys) }]);
    await warmUp(run, map);
    await warmUp(run, fixed);
    await measure(run, baselineScenarios(fixed, map, run.workload, run.options));
  } finally {
    await fixed.stop();
    await map.stop();
  }
}

let clustersStarted = 0;

/** How a cluster of withCluster differs from the run's usual one. */
export interface ClusterExtras {
  /** More kvserver flags, after the bench's own. */
  serverArgs?: string[];
  /** The checkout whose build runs it (default: this one). */
  programRoot?: string;
  security?: ClusterSecurity;
  /** See KvClusterOptions.rttMs. */
  rttMs?: number;
}

/**
 * Starts a cluster of the run's shape with `config` on `zookeeper` (under a
 * new --cluster name), loads and warms up its hot keys, runs `body`, stops it.
 */
export async function withCluster(
  run: Run,
  zookeeper: ZooKeeperHandle,
  config: ClusterConfig,
  body: (cluster: KvCluster) => Promise<void>,
  extras: ClusterExtras = {},
): Promise<void> {
  const name = `bench-${process.pid}-${++clustersStarted}`;
  let started: KvCluster | undefined;
  const { partitions, replicas, cpuProfDir } = run.options;
  const options = { zookeeper, name, config, partitions, replicas, dir: path.join(run.dir, name), cpuProfDir, ...extras };
  try {
    const cluster = await KvCluster.start(options, (cluster) => {
      started = run.lifecycle.track(cluster);
      for (const [pid, processName] of cluster.processNames()) run.processNames.set(pid, processName);
    });
    console.log(`  cluster ${name} is up, gate ${cluster.url}`);
    await loadCluster(run, cluster, 0, run.options.hotKeys);
    await warmUp(run, cluster);
    await body(cluster);
  } catch (error) {
    const tails = started ? `\n${started.logTails()}` : '';
    throw new Error(`${(error as Error).message}${tails}`, { cause: error });
  } finally {
    await started?.stop();
  }
}

/** Starts a cluster per spec, one after the other (each loaded and warmed up), runs `body` with all of them up, stops them. */
export async function withClusters(
  run: Run,
  zookeeper: ZooKeeperHandle,
  specs: Array<{ config: ClusterConfig; extras?: ClusterExtras }>,
  body: (clusters: KvCluster[]) => Promise<void>,
): Promise<void> {
  const up: KvCluster[] = [];
  const startFrom = async (index: number): Promise<void> => {
    const spec = specs[index];
    if (!spec) return body(up);
    return withCluster(
      run,
      zookeeper,
      spec.config,
      async (cluster) => {
        up.push(cluster);
        await startFrom(index + 1);
      },
      spec.extras,
    );
  };
  await startFrom(0);
}

/** Whether the etcd rows run, or why not (said once, by the etcd section). */
function etcdSkipped(run: Run): string | undefined {
  if (!run.options.etcd) return 'skipped (--smoke)';
  if (!etcdInstalled()) return 'not installed (apt-get install etcd-server)';
  return undefined;
}

/**
 * The headline ratios (headlineComparisons) in interleaved rounds: a Map
 * server and etcd's 3-member cluster are started beside the main cluster,
 * loaded and warmed up, and stopped after.
 */
async function headlineRounds(run: Run, cluster: KvCluster, selfRouting: SelfRoutingLoad): Promise<void> {
  const logs = path.join(run.dir, 'logs');
  const map = run.lifecycle.track(await BaselineServer.start('map', logs));
  let etcd: Etcd | undefined;
  try {
    if (etcdSkipped(run) === undefined) {
      etcd = await Etcd.start(3, path.join(run.dir, 'etcd-rounds'), (started) => run.lifecycle.track(started));
      await load(run, [{ url: etcd.url, keys: range(run.options.hotKeys) }], (n) => run.workload.etcdPutOf(n));
    }
    await load(run, [{ url: map.url, keys: range(run.options.hotKeys) }]);
    await warmUp(run, map);
    const targets: HeadlineTargets = { map, cluster, selfRouting, ...(etcd && { etcd }) };
    await runRounds(run, `Headline ratios: ${describeShape(run.options)}, ${describeConfig(cluster.options.config)}`, headlineComparisons(targets, run.workload, run.options));
  } finally {
    await etcd?.stop();
    await map.stop();
  }
}

/** The main cluster's rows: through the gate, straight to the leader, against connections, then the headline ratios in rounds. */
async function mainCluster(run: Run, cluster: KvCluster): Promise<void> {
  await loadCluster(run, cluster, 0, run.options.uniformKeys);
  await measure(run, gateScenarios(cluster, run.workload, run.options));
  await measure(run, await directScenarios(cluster, run.workload, run.options));
  const selfRouting = await selfRoutingLoad(cluster, run.options.hotKeys);
  try {
    await measure(run, selfRoutingScenarios(selfRouting, run.workload, run.options));
    if (run.options.scaleConnections.length > 0) await measure(run, connectionScenarios(cluster, run.workload, run.options));
    await headlineRounds(run, cluster, selfRouting);
  } finally {
    await selfRouting.stop();
  }
}

/** GETs over ever more keys: each count is loaded on top of the last. */
async function keyScaling(run: Run, cluster: KvCluster): Promise<void> {
  let loaded = 0;
  for (const count of run.options.scaleKeys) {
    const loadSeconds = count > loaded ? await loadCluster(run, cluster, loaded, count - loaded) : 0;
    await measure(run, [keysScenario(cluster, { count, loaded: count - loaded, loadSeconds }, run.workload, run.options)]);
    loaded = count;
  }
}

/**
 * The clusters to start, each with its rows: the main one, then one with
 * async replication and one with fsync off (each skipped when it would be
 * the main one again). The GET-against-keys rows go to the fsync-off
 * cluster, the quickest to load (a GET never waits on fsync), or else to a
 * fresh cluster of the main config.
 */
function clusterPlans(run: Run): Array<{ config: ClusterConfig; body: (cluster: KvCluster) => Promise<void> }> {
  const main: ClusterConfig = { replication: run.options.replication, fsync: run.options.fsync, memory: run.options.memory };
  const putRow = (cluster: KvCluster): Promise<void> => measure(run, [variantScenario(cluster, run.workload, run.options)]);
  const plans = [{ config: main, body: (cluster: KvCluster) => mainCluster(run, cluster) }];
  if (main.replication !== 'async') plans.push({ config: { ...main, replication: 'async' }, body: putRow });
  if (!main.memory && main.fsync) {
    const body = async (cluster: KvCluster): Promise<void> => {
      await putRow(cluster);
      await keyScaling(run, cluster);
    };
    plans.push({ config: { ...main, fsync: false }, body });
  } else plans.push({ config: main, body: (cluster) => keyScaling(run, cluster) });
  return plans;
}

async function etcdRows(run: Run): Promise<void> {
  const skipped = etcdSkipped(run);
  if (skipped !== undefined) return console.log(`\netcd: ${skipped}`);
  for (const members of [1, 3]) {
    await section(run, `etcd, ${members} member${members === 1 ? '' : 's'}`, async () => {
      const etcd = await Etcd.start(members, path.join(run.dir, `etcd-${members}`), (started) => run.lifecycle.track(started));
      try {
        await load(run, [{ url: etcd.url, keys: range(run.options.hotKeys) }], (n) => run.workload.etcdPutOf(n));
        await measure(run, etcdScenarios(etcd, members, run.workload, run.options));
      } finally {
        await etcd.stop();
      }
    });
  }
}

/** The run's private ZooKeeper; undefined (and a failure recorded) if it did not start. */
export async function startBenchZooKeeper(run: Run): Promise<ZooKeeperHandle | undefined> {
  let zookeeper: ZooKeeperHandle | undefined;
  await section(run, 'ZooKeeper', async () => {
    const port = await freePort();
    zookeeper = run.lifecycle.track(await startZooKeeper({ port, dataDir: path.join(run.dir, 'zookeeper'), ownProcessGroup: true }));
    console.log(`  serving on ${zookeeper.connectString}`);
  });
  return zookeeper;
}

export async function runAll(run: Run): Promise<void> {
  await section(run, 'Baselines: node:http in a process of its own', () => baselines(run));
  const zookeeper = await startBenchZooKeeper(run);
  if (zookeeper) {
    for (const plan of clusterPlans(run)) {
      await section(run, `kvstore cluster: ${describeShape(run.options)}, ${describeConfig(plan.config)}`, () => withCluster(run, zookeeper, plan.config, plan.body));
    }
  }
  await etcdRows(run);
}
