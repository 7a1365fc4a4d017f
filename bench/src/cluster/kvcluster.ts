import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureClusterSecretFile } from '@kvstore/cluster';
import { Ring, type ClusterView, type MigrationView } from '@kvstore/protocol';
import type { Tracked } from './cpu';
import {
  HeldPorts,
  fetchClusterView,
  kvGateArgs,
  kvServerArgs,
  programMain,
  schemeOf,
  TcpProxy,
  waitFor,
  waitForSettledCluster,
  type ManagedProcess,
  type TlsFileSet,
  type ZooKeeperHandle,
} from '@kvstore/testkit/harness';
import { startNodeProgram, type Stoppable } from './lifecycle';
import type { Access } from './load';
import { keyOf } from './workload';

/** What differs between the clusters of one run. */
export interface ClusterConfig {
  replication: 'sync' | 'async';
  fsync: boolean;
  /** No --data-dir: fsync does not apply. */
  memory: boolean;
}

/** The security settings of a cluster (docs/security.md): off for all but the security bench's variants. */
export interface ClusterSecurity {
  /** The gate runs --auth on and bootstraps the user admin, whose token the load sends. */
  auth: boolean;
  /** Every listener (gate, replicas) serves HTTPS with these files; the replicas' internal traffic is mutual TLS. */
  tls?: TlsFileSet;
}

/** "sync, fsync on", "async, memory": for row names. */
export function describeConfig(config: ClusterConfig): string {
  return `${config.replication}, ${config.memory ? 'memory' : `fsync ${config.fsync ? 'on' : 'off'}`}`;
}

/** "auth+tls", "auth", "tls", or "" for neither. */
export function describeSecurity(security: ClusterSecurity | undefined): string {
  return [security?.auth && 'auth', security?.tls && 'tls'].filter(Boolean).join('+');
}

export interface KvClusterOptions {
  zookeeper: ZooKeeperHandle;
  /** The --cluster name: a new one for every cluster started on the same ZooKeeper. */
  name: string;
  partitions: number;
  replicas: number;
  config: ClusterConfig;
  /** Logs and replica data go under it. */
  dir: string;
  /** Start gate and servers with --cpu-prof into this directory. */
  cpuProfDir?: string;
  /** More kvserver flags, after the bench's own. */
  serverArgs?: string[];
  /** The checkout whose build runs the processes (default: this one). */
  programRoot?: string;
  security?: ClusterSecurity;
  /**
   * Every replica is reached (by the gate and by its peers) through a proxy
   * in this process that holds each byte sent to it this long: a round trip
   * as if each replica were on a host of its own (answers are not held).
   */
  rttMs?: number;
}

interface Server {
  id: string;
  partition: string;
  /** Its own port, not the proxy's. */
  url: string;
  process: ManagedProcess;
  /** The delaying proxy it is advertised behind (rttMs). */
  link?: TcpProxy;
}

async function stopServer(server: Server): Promise<void> {
  await server.process.stop();
  await server.link?.close();
}

/** A partition's leader, and which of some keys its partition owns. */
export interface LeaderKeys {
  partition: string;
  url: string;
  keys: number[];
}

/** Keys first..first+count-1 by the partition that owns them on the view's ring, with its leader (partitions in name order). */
export function keysByLeader(view: ClusterView, first: number, count: number): LeaderKeys[] {
  const ring = new Ring(view.ring);
  const byPartition = new Map<string, number[]>();
  for (let n = first; n < first + count; n++) {
    const owner = ring.ownerOf(keyOf(n))!;
    const keys = byPartition.get(owner) ?? [];
    if (keys.length === 0) byPartition.set(owner, keys);
    keys.push(n);
  }
  return [...byPartition.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([partition, keys]) => {
      const state = view.partitions.find((candidate) => candidate.name === partition);
      const url = state?.members.find((member) => member.id === state.leader)?.url;
      if (!url) throw new Error(`the gate knows no leader of partition ${partition}`);
      return { partition, url, keys };
    });
}

function execArgv(options: KvClusterOptions): string[] {
  return options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
}

/** Starts replica `id` of `partition` on `port` (free by now), with the cluster's config; resolves once it answers /healthz. */
async function startServer(options: KvClusterOptions, clusterSecretFile: string, server: Omit<Server, 'process' | 'url'> & { port: number }): Promise<Server> {
  const { config, dir, zookeeper, name } = options;
  const { id, partition, port } = server;
  const logFile = path.join(dir, 'logs', `${id}.log`);
  const scheme = schemeOf(options.security ?? {});
  const link = options.rttMs ? await TcpProxy.start(port) : undefined;
  link?.lag(options.rttMs!);
  const args = kvServerArgs({
    zk: zookeeper.connectString,
    port,
    cluster: name,
    clusterSecretFile,
    partition,
    id,
    dataDir: config.memory ? undefined : path.join(dir, 'data', id),
    tls: options.security?.tls,
    replication: config.replication,
    fsync: config.memory ? undefined : config.fsync,
    logFile,
    advertise: link && `${scheme}://${link.address}`,
    extraArgs: ['--log-level', 'warn', ...(options.serverArgs ?? [])],
  });
  const url = `${scheme}://127.0.0.1:${port}`;
  try {
    const child = await startNodeProgram({ name: `kvserver ${id}`, script: programMain('kvserver', options.programRoot), args, url, logFile, execArgv: execArgv(options) });
    return { id, partition, url, process: child, link };
  } catch (error) {
    await link?.close();
    throw error;
  }
}

/** A kvstore cluster on our ZooKeeper: replicas p<i>-r<j> and one gate, all on 127.0.0.1. */
export class KvCluster implements Stoppable {
  private constructor(
    readonly options: KvClusterOptions,
    readonly gateUrl: string,
    /** The token the gate's bootstrap wrote (--auth on), and the CA of its https:// url. */
    readonly access: Access,
    private readonly clusterSecretFile: string,
    private readonly gate: ManagedProcess | undefined,
    private servers: Server[],
  ) {}

  /** Starts it, and waits until every partition has a leader and a full in-sync set; `onStarted` sees it even if that fails. */
  static async start(options: KvClusterOptions, onStarted: (cluster: KvCluster) => void): Promise<KvCluster> {
    const { partitions, replicas, dir, zookeeper, name } = options;
    const held = await HeldPorts.hold(partitions * replicas + 1);
    const [gatePort, ...serverPorts] = held.ports as [number, ...number[]];
    fs.mkdirSync(dir, { recursive: true });
    const clusterSecretFile = ensureClusterSecretFile(path.join(dir, 'cluster.secret'));
    const layout = new Map<string, string[]>();
    const serverStarts = serverPorts.map(async (port, index) => {
      const partition = `p${Math.floor(index / replicas)}`;
      const id = `${partition}-r${(index % replicas) + 1}`;
      layout.set(partition, [...(layout.get(partition) ?? []), id]);
      await held.release(port);
      return startServer(options, clusterSecretFile, { id, partition, port });
    });
    const security = options.security ?? { auth: false };
    const gateUrl = `${schemeOf(security)}://127.0.0.1:${gatePort}`;
    const tokenFile = path.join(dir, 'admin.token');
    const gateStart = (async () => {
      const logFile = path.join(dir, 'logs', 'gate.log');
      const extraArgs = security.auth ? ['--auth', 'on', '--auth-bootstrap-token-file', tokenFile] : [];
      const args = kvGateArgs({ zk: zookeeper.connectString, port: gatePort, cluster: name, clusterSecretFile, tls: security.tls, logFile, extraArgs });
      await held.release(gatePort);
      return startNodeProgram({ name: 'kvgate', script: programMain('kvgate', options.programRoot), args, url: gateUrl, logFile, execArgv: execArgv(options) });
    })();
    // Whatever did start is kept (and handed to onStarted) before a failure is reported, so that it is stopped.
    const starts = await Promise.allSettled([gateStart, ...serverStarts]);
    await held.releaseAll();
    const [gate, ...servers] = starts;
    const cluster = new KvCluster(
      options,
      gateUrl,
      { caFile: security.tls?.caFile },
      clusterSecretFile,
      gate.status === 'fulfilled' ? gate.value : undefined,
      servers.flatMap((start) => (start.status === 'fulfilled' ? [start.value] : [])),
    );
    onStarted(cluster);
    const failure = starts.find((start): start is PromiseRejectedResult => start.status === 'rejected');
    if (failure) throw failure.reason;
    if (security.auth) {
      await waitFor(() => fs.existsSync(tokenFile), { timeoutMs: 30_000, what: `the gate to write ${tokenFile}` });
      cluster.access.token = fs.readFileSync(tokenFile, 'utf8').trim();
    }
    await waitForSettledCluster(cluster.gateUrl, { partitions: layout }, 60_000, () => cluster.access.token);
    return cluster;
  }

  /**
   * Starts the replicas of a new partition, side by side, with the others'
   * flags (on a cluster that holds data, they start a migration to it);
   * resolves once each answers /healthz. They are stopped with the cluster.
   */
  async addPartition(partition: string): Promise<void> {
    const held = await HeldPorts.hold(this.options.replicas);
    const starts = held.ports.map(async (port, index) => {
      await held.release(port);
      const server = await startServer(this.options, this.clusterSecretFile, { id: `${partition}-r${index + 1}`, partition, port });
      this.servers.push(server);
    });
    const results = await Promise.allSettled(starts);
    await held.releaseAll();
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** Starts the migration that removes `partition`, through the gate's admin route; resolves to the migration as the gate answered (202). */
  async removePartition(partition: string): Promise<MigrationView> {
    const headers: Record<string, string> = this.access.token === undefined ? {} : { authorization: `Bearer ${this.access.token}` };
    const answer = await fetch(`${this.gateUrl}/v1/admin/partitions/${encodeURIComponent(partition)}`, { method: 'DELETE', headers });
    const body = await answer.text();
    if (answer.status !== 202) throw new Error(`removing ${partition}: the gate answered ${answer.status} ${body.slice(0, 200)}`);
    return JSON.parse(body) as MigrationView;
  }

  /** Stops the replicas of `partition` (once it is off the ring). */
  async stopPartition(partition: string): Promise<void> {
    const leaving = this.servers.filter((server) => server.partition === partition);
    await Promise.all(leaving.map(stopServer));
    this.servers = this.servers.filter((server) => server.partition !== partition);
  }

  /** Where scenarios through the gate send their load. */
  get url(): string {
    return this.gateUrl;
  }

  view(): Promise<ClusterView> {
    return fetchClusterView(this.gateUrl, 2000, this.access.token);
  }

  /** The processes that serve it, each as what it is now (leaders per the gate's view), and ZooKeeper. */
  async tracked(): Promise<Tracked[]> {
    const leaders = new Set((await this.view()).partitions.map((partition) => partition.leader));
    return [
      ...(this.gate ? [{ pid: this.gate.pid, kind: 'gate' as const }] : []),
      ...this.servers.map((server) => ({
        pid: server.process.pid,
        kind: leaders.has(server.id) ? ('leader' as const) : ('followers' as const),
        metrics: { baseUrl: server.url, token: this.access.token },
      })),
      ...(this.options.zookeeper.pid === undefined ? [] : [{ pid: this.options.zookeeper.pid, kind: 'zookeeper' as const }]),
    ];
  }

  /** Pid to "kvgate (sync, fsync on)" or "kvgate (tls, sync, fsync on)": to name the CPU profiles. */
  processNames(): Map<number, string> {
    const suffix = ` (${[describeSecurity(this.options.security), describeConfig(this.options.config)].filter(Boolean).join(', ')})`;
    const all = [...(this.gate ? [this.gate] : []), ...this.servers.map((server) => server.process)];
    return new Map(all.map((child) => [child.pid, `${child.name}${suffix}`]));
  }

  logTails(lines = 15): string {
    const all = [...(this.gate ? [this.gate] : []), ...this.servers.map((server) => server.process)];
    return all.map((child) => `--- ${child.name} (${child.describeExit()}) ${child.logFile}\n${child.logTail(lines)}`).join('\n');
  }

  /** The gate first, so that it does not retry against replicas going away; SIGTERM lets --cpu-prof write its profile. */
  async stop(): Promise<void> {
    await this.gate?.stop();
    await Promise.all(this.servers.map(stopServer));
  }
}
