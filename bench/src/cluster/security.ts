/**
 * `npm run bench -- security`: what authentication and TLS cost on the data
 * path. Clusters of this build, the same shape and config, started with
 * different security flags (none, --auth on, TLS on every listener, both),
 * all up at once on one ZooKeeper, measured in interleaved rounds of gate
 * GET strong and gate PUT against the plain one. With auth the load sends the
 * bootstrapped admin's token; with TLS it speaks https to the gate, with a CA
 * and certificate the bench makes as `npm start -- --secure` does.
 */
import * as path from 'node:path';
import { ensureTlsFiles, trustCa } from '@kvstore/testkit/harness';
import { section, type Run } from './context';
import { describeConfig, describeSecurity, type ClusterConfig, type ClusterSecurity, type KvCluster } from './kvcluster';
import { startBenchZooKeeper, withClusters } from './plan';
import { runRounds, type Comparison } from './rounds';
import { uniformKeys } from './workload';

/** The variants, the reference (plain) first. */
function variants(run: Run): ClusterSecurity[] {
  const tls = ensureTlsFiles(path.join(run.dir, 'tls'));
  // The bench's own requests (readiness, the cluster view) go through fetch, which must trust the CA.
  trustCa(tls.caFile);
  return [{ auth: false }, { auth: true }, { auth: false, tls }, { auth: true, tls }];
}

const labelOf = (cluster: KvCluster): string => describeSecurity(cluster.options.security) || 'plain';

function comparisons(run: Run, clusters: KvCluster[]): Comparison[] {
  const keys = uniformKeys(run.options.hotKeys);
  const entrants = (next: Comparison['entrants'][number]['next']): Comparison['entrants'] => clusters.map((target) => ({ label: labelOf(target), target, next }));
  return [
    { workload: 'gate GET strong', entrants: entrants(run.workload.kvGet(keys, 'strong')) },
    { workload: `gate PUT (${describeConfig(clusters[0]!.options.config)})`, entrants: entrants(run.workload.kvPut(keys)) },
  ];
}

export async function runSecurity(run: Run): Promise<void> {
  const zookeeper = await startBenchZooKeeper(run);
  if (!zookeeper) return;
  const { options } = run;
  const config: ClusterConfig = { replication: options.replication, fsync: options.fsync, memory: options.memory };
  await section(run, `Security: plain, auth, tls and auth+tls clusters side by side, ${options.rounds} interleaved rounds`, async () => {
    const specs = variants(run).map((security) => ({ config, extras: { security } }));
    await withClusters(run, zookeeper, specs, async (clusters) => {
      await runRounds(run, 'Security: the cost of --auth on and of TLS on the data path, against the plain cluster', comparisons(run, clusters));
    });
  });
}
