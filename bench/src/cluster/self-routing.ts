import { DirectRoutes, KvClient } from '@kvstore/kvclient';
import type { KvCluster } from './kvcluster';
import type { Scenario, Target } from './measure';
import type { ClusterBenchOptions } from './options';
import { REFERENCE } from './scenarios';
import { keyOf, keysFrom, type KeyPicker, type Workload } from './workload';

/**
 * The self-routing client's rows (`new KvClient({ routing: 'direct' })`):
 * each request goes where kvclient's own table (the gate's `/v1/routing`)
 * sends it, on the replica's public port. The load generator drives one
 * address a row, so the rows take the hot keys of the first leader the
 * table names: all of them on the main cluster (one partition).
 */
/** Where the self-routing client sends the hot keys, and the keys it sends there (those of the first leader the table names). */
export interface SelfRoutingLoad {
  target: Target;
  keys: KeyPicker;
}

export async function selfRoutingLoad(cluster: KvCluster, hotKeys: number): Promise<SelfRoutingLoad> {
  const client = new KvClient({ hosts: cluster.url });
  const routes = await client.routing().finally(() => client.close());
  const table = new DirectRoutes(routes);
  const byLeader = new Map<string, number[]>();
  for (let n = 0; n < hotKeys; n++) {
    const url = table.target(keyOf(n), 'write')?.url;
    if (url === undefined) throw new Error(`the routing table names no leader for ${keyOf(n)}`);
    const keys = byLeader.get(url) ?? [];
    if (keys.length === 0) byLeader.set(url, keys);
    keys.push(n);
  }
  const [url, keys] = [...byLeader].sort(([a], [b]) => a.localeCompare(b))[0]!;
  return { target: { url, tracked: () => cluster.tracked() }, keys: keysFrom(keys) };
}

export async function selfRoutingScenarios(
  cluster: KvCluster,
  workload: Workload,
  options: Pick<ClusterBenchOptions, 'connections' | 'durationS' | 'hotKeys'>,
): Promise<Scenario[]> {
  const { target, keys } = await selfRoutingLoad(cluster, options.hotKeys);
  const load = { group: 'direct' as const, target, connections: options.connections, durationS: options.durationS };
  return [
    { name: 'self-routing GET strong', next: workload.kvGet(keys, 'strong'), comparedWith: { baseline: REFERENCE.mapGet, etcd: REFERENCE.etcdRange }, ...load },
    { name: 'self-routing PUT', next: workload.kvPut(keys), comparedWith: { baseline: REFERENCE.mapPut, etcd: REFERENCE.etcdPut }, ...load },
  ];
}
