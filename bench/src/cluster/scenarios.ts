import type { BaselineServer } from './baselines';
import type { Etcd } from './etcd';
import { describeConfig, keysByLeader, type KvCluster } from './kvcluster';
import type { Scenario, Target } from './measure';
import type { ClusterBenchOptions } from './options';
import type { Comparison } from './rounds';
import type { SelfRoutingLoad } from './self-routing';
import { keysFrom, uniformKeys, type Workload } from './workload';

/** The rows others are compared with. */
export const REFERENCE = {
  fixed: 'baseline fixed body',
  mapGet: 'baseline Map GET',
  mapPut: 'baseline Map PUT',
  etcdPut: 'etcd 3 members put',
  etcdRange: 'etcd 3 members range',
} as const;

/** How a reference is named in a ratio cell: "0.41× map-get". */
export const REFERENCE_LABEL: Record<string, string> = {
  [REFERENCE.fixed]: 'fixed',
  [REFERENCE.mapGet]: 'map-get',
  [REFERENCE.mapPut]: 'map-put',
  [REFERENCE.etcdPut]: 'etcd3-put',
  [REFERENCE.etcdRange]: 'etcd3-range',
};

type Options = Pick<ClusterBenchOptions, 'connections' | 'durationS' | 'scaleDurationS' | 'hotKeys' | 'uniformKeys' | 'scaleConnections'>;

export function baselineScenarios(fixed: BaselineServer, map: BaselineServer, workload: Workload, options: Options): Scenario[] {
  const load = { connections: options.connections, durationS: options.durationS };
  const keys = uniformKeys(options.hotKeys);
  return [
    { name: REFERENCE.fixed, group: 'baseline', target: fixed, next: () => ({ method: 'GET', path: '/' }), ...load },
    { name: REFERENCE.mapGet, group: 'baseline', target: map, next: workload.kvGet(keys, 'strong'), comparedWith: { baseline: REFERENCE.fixed }, ...load },
    { name: REFERENCE.mapPut, group: 'baseline', target: map, next: workload.kvPut(keys), comparedWith: { baseline: REFERENCE.fixed }, ...load },
  ];
}

function gatePutName(cluster: KvCluster): string {
  return `gate PUT (${describeConfig(cluster.options.config)})`;
}

/** The main cluster's rows through the gate; its first `uniformKeys` keys must be loaded. */
export function gateScenarios(cluster: KvCluster, workload: Workload, options: Options): Scenario[] {
  const load = { group: 'gate' as const, target: cluster, connections: options.connections, durationS: options.durationS };
  const keys = uniformKeys(options.hotKeys);
  const versusGet = { baseline: REFERENCE.mapGet };
  return [
    { name: 'gate GET strong', next: workload.kvGet(keys, 'strong'), comparedWith: { ...versusGet, etcd: REFERENCE.etcdRange }, ...load },
    { name: 'gate GET eventual', next: workload.kvGet(keys, 'eventual'), comparedWith: versusGet, ...load },
    { name: gatePutName(cluster), next: workload.kvPut(keys), comparedWith: { baseline: REFERENCE.mapPut, etcd: REFERENCE.etcdPut }, ...load },
    { name: 'gate 90/10 GET/PUT', next: workload.kvMix(keys, 0.1), comparedWith: versusGet, ...load },
    { name: 'gate hot key PUT (1 key)', next: workload.kvPut(() => 0), comparedWith: { baseline: REFERENCE.mapPut }, ...load },
    {
      name: `gate GET uniform (${options.uniformKeys.toLocaleString('en-US')} keys)`,
      next: workload.kvGet(uniformKeys(options.uniformKeys), 'strong'),
      comparedWith: versusGet,
      ...load,
    },
  ];
}

/** GET and PUT straight to a partition leader's own HTTP port: the cluster without the gate's hop. */
export async function directScenarios(cluster: KvCluster, workload: Workload, options: Options): Promise<Scenario[]> {
  // The first partition's leader, with the hot keys its partition owns (all of them with one partition).
  const leader = keysByLeader(await cluster.view(), 0, options.hotKeys)[0]!;
  const target: Target = { url: leader.url, tracked: () => cluster.tracked() };
  const load = { group: 'direct' as const, target, connections: options.connections, durationS: options.durationS };
  const keys = keysFrom(leader.keys);
  return [
    { name: `direct GET strong (leader of ${leader.partition})`, next: workload.kvGet(keys, 'strong'), comparedWith: { baseline: REFERENCE.mapGet }, ...load },
    { name: `direct PUT (leader of ${leader.partition})`, next: workload.kvPut(keys), comparedWith: { baseline: REFERENCE.mapPut }, ...load },
  ];
}

/** The PUT row of a cluster started with another config than the main one. */
export function variantScenario(cluster: KvCluster, workload: Workload, options: Options): Scenario {
  const name = gatePutName(cluster);
  const next = workload.kvPut(uniformKeys(options.hotKeys));
  return { name, group: 'variant', target: cluster, next, connections: options.connections, durationS: options.durationS, comparedWith: { baseline: REFERENCE.mapPut } };
}

/** The rows of an etcd cluster; its first `hotKeys` keys must be loaded. */
export function etcdScenarios(etcd: Etcd, members: number, workload: Workload, options: Options): Scenario[] {
  const load = { group: 'etcd' as const, target: etcd, connections: options.connections, durationS: options.durationS };
  const keys = uniformKeys(options.hotKeys);
  const prefix = `etcd ${members} member${members === 1 ? '' : 's'}`;
  return [
    { name: `${prefix} put`, next: workload.etcdPut(keys), comparedWith: { baseline: REFERENCE.mapPut }, ...load },
    { name: `${prefix} range`, next: workload.etcdRange(keys), comparedWith: { baseline: REFERENCE.mapGet }, ...load },
  ];
}

/** Gate GET and PUT at each connection count of the scaling figure. */
export function connectionScenarios(cluster: KvCluster, workload: Workload, options: Options): Scenario[] {
  const keys = uniformKeys(options.hotKeys);
  return options.scaleConnections.flatMap((connections) => {
    const load = { group: 'connections' as const, target: cluster, connections, durationS: options.scaleDurationS };
    return [
      { name: `gate GET strong, ${connections} conn`, next: workload.kvGet(keys, 'strong'), ...load },
      { name: `${gatePutName(cluster)}, ${connections} conn`, next: workload.kvPut(keys), ...load },
    ];
  });
}

/** Gate GETs uniform over every key of a cluster holding `count` keys. */
export function keysScenario(cluster: KvCluster, keys: NonNullable<Scenario['keys']>, workload: Workload, options: Options): Scenario {
  return {
    name: `gate GET uniform, ${keys.count.toLocaleString('en-US')} keys (${describeConfig(cluster.options.config)})`,
    group: 'keys',
    target: cluster,
    next: workload.kvGet(uniformKeys(keys.count), 'strong'),
    connections: options.connections,
    durationS: options.scaleDurationS,
    keys,
  };
}

/** What the headline ratios are measured on, all up at once. */
export interface HeadlineTargets {
  map: BaselineServer;
  cluster: KvCluster;
  /** etcd's 3-member cluster, when it runs: the PUT reference (else the Map server). */
  etcd?: Etcd;
  /** Where the self-routing client sends the hot keys (self-routing.ts). */
  selfRouting?: SelfRoutingLoad;
}

/**
 * The headline ratios of the cluster suite, in interleaved rounds: GET
 * strong against the Map server, PUT against etcd's 3-member put. Each
 * comparison's first entrant is its reference; a new way to reach the
 * cluster (a client that routes itself) is one more entrant of each.
 */
export function headlineComparisons(targets: HeadlineTargets, workload: Workload, options: Options): Comparison[] {
  const keys = uniformKeys(options.hotKeys);
  const { map, cluster, etcd, selfRouting } = targets;
  const putReference = etcd ? { label: 'etcd 3 members', target: etcd, next: workload.etcdPut(keys) } : { label: 'Map server', target: map, next: workload.kvPut(keys) };
  return [
    {
      workload: 'GET strong',
      entrants: [
        { label: 'Map server', target: map, next: workload.kvGet(keys, 'strong') },
        { label: 'gate', target: cluster, next: workload.kvGet(keys, 'strong') },
        ...(selfRouting ? [{ label: 'self-routing', target: selfRouting.target, next: workload.kvGet(selfRouting.keys, 'strong') }] : []),
      ],
    },
    {
      workload: `PUT (${describeConfig(cluster.options.config)})`,
      entrants: [
        putReference,
        { label: 'gate', target: cluster, next: workload.kvPut(keys) },
        ...(selfRouting ? [{ label: 'self-routing', target: selfRouting.target, next: workload.kvPut(selfRouting.keys) }] : []),
      ],
    },
  ];
}
