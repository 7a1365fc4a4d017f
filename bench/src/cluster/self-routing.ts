import { DirectRoutes, KvClient } from '@kvstore/kvclient';
import { requestThroughClient } from '@kvstore/testkit/harness';
import type { KvCluster } from './kvcluster';
import type { Scenario, Target } from './measure';
import type { ClusterBenchOptions } from './options';
import { REFERENCE } from './scenarios';
import { keyOf, keysFrom, type KeyPicker, type Workload } from './workload';

/**
 * The self-routing client's rows (`new KvClient({ routing: 'direct' })`):
 * the load goes through kvclient itself, which sends each request where its
 * own table (the gate's `/v1/routing`) says, as a binary kv frame on the
 * replica's client door. The rows take the hot keys of the first leader the
 * table names: all of them on the main cluster (one partition).
 */
export interface SelfRoutingLoad {
  target: Target;
  keys: KeyPicker;
  /** Closes the client's connections. */
  stop(): Promise<void>;
}

export async function selfRoutingLoad(cluster: KvCluster, hotKeys: number): Promise<SelfRoutingLoad> {
  const client = new KvClient({ hosts: cluster.url, routing: 'direct', token: cluster.access.token, retries: 0 });
  const table = new DirectRoutes(await client.routing());
  const byLeader = new Map<string, number[]>();
  for (let n = 0; n < hotKeys; n++) {
    const url = table.target(keyOf(n), 'write')?.url;
    if (url === undefined) throw new Error(`the routing table names no leader for ${keyOf(n)}`);
    const keys = byLeader.get(url) ?? [];
    if (keys.length === 0) byLeader.set(url, keys);
    keys.push(n);
  }
  const [url, keys] = [...byLeader].sort(([a], [b]) => a.localeCompare(b))[0]!;
  return {
    target: { url, tracked: () => cluster.tracked(), send: async (request) => (await requestThroughClient(client, request)).status },
    keys: keysFrom(keys),
    stop: async () => client.close(),
  };
}

export function selfRoutingScenarios(
  selfRouting: SelfRoutingLoad,
  workload: Workload,
  options: Pick<ClusterBenchOptions, 'connections' | 'durationS'>,
): Scenario[] {
  const { target, keys } = selfRouting;
  const load = { group: 'direct' as const, target, connections: options.connections, durationS: options.durationS };
  return [
    { name: 'self-routing GET strong', next: workload.kvGet(keys, 'strong'), comparedWith: { baseline: REFERENCE.mapGet, etcd: REFERENCE.etcdRange }, ...load },
    { name: 'self-routing PUT', next: workload.kvPut(keys), comparedWith: { baseline: REFERENCE.mapPut, etcd: REFERENCE.etcdPut }, ...load },
  ];
}
