import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClusterView } from '@kvstore/protocol';
import * as kit from '@kvstore/testkit';
import type { KvGateOptions, KvServerOptions, TcpProxy, TestCluster, TestGate, TestServer, ZooKeeperEnsemble } from '@kvstore/testkit';

/** The links of one replica that the nemesis can cut: what reaches it, and its way to ZooKeeper. */
export interface ReplicaLinks {
  /** Peers and gates reach the replica only through this (its advertised url). */
  inbound: TcpProxy;
  /** Its --zk lists these, one per ZooKeeper member, each leading to its member. */
  zookeeper: TcpProxy[];
}

export interface ChaosClusterOptions {
  /** Replica data dirs go under <dataDir>/<id>. */
  dataDir: string;
  /** Process logs go under <logDir>/<name>.log. */
  logDir: string;
  partitions?: number;
  replicas?: number;
  gates?: number;
  sessionTimeoutMs: number;
  /** ZooKeeper members (default 1: a standalone server). */
  zkEnsemble?: number;
  /** Every server's --replication (default sync). */
  replication?: 'sync' | 'async';
  /** Replica id → how far its clock is off (ms); see clock-skew.ts. */
  clockOffsets?: ReadonlyMap<string, number>;
  /** Given to every server and gate as KV_CLUSTER_SECRET_FILE; see writeClusterSecret. */
  secretFile?: string;
  log?: (line: string) => void;
}

/** Every server's --replica-timeout: a follower that does not answer an append within it leaves the in-sync set. */
export const REPLICA_TIMEOUT_MS = 500;

/** Bound on each process's wait to answer GET /healthz, at start and on restarts. */
const START_TIMEOUT_MS = 60_000;

/** Where servers and gates read the cluster secret from (the file holds it, base64). */
const CLUSTER_SECRET_ENV = 'KV_CLUSTER_SECRET_FILE';
/** kvserver's test-only clock offset (packages/kvserver/src/clock.ts). */
const CLOCK_OFFSET_ENV = 'KV_TEST_CLOCK_OFFSET_MS';

/** Writes 32 random bytes, base64, to `<dir>/cluster-secret`, readable by this user only; returns the path. */
export function writeClusterSecret(dir: string): string {
  const file = path.join(dir, 'cluster-secret');
  fs.writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  // The mode above applies only to a new file.
  fs.chmodSync(file, 0o600);
  return file;
}


/**
 * The cluster of a chaos run: a private ZooKeeper or ensemble (the nemesis
 * restarts it, or kills and restarts members),
 * replicas p<i>-r<j> with data dirs, each behind two TCP proxies, and gates
 * talking to ZooKeeper directly. It is built here rather than with the kit's
 * startCluster, which has no per-replica --advertise or --zk, and then handed
 * to the kit's TestCluster for views, waits and restarts.
 */
export class ChaosCluster {
  private readonly isolated = new Set<string>();
  private readonly lagging = new Set<string>();

  private constructor(
    readonly zookeeper: ZooKeeperEnsemble,
    readonly cluster: TestCluster,
    readonly links: Map<string, ReplicaLinks>,
    private readonly gateList: TestGate[],
  ) {}

  static async start(options: ChaosClusterOptions): Promise<ChaosCluster> {
    const { partitions = 2, replicas = 3, gates = 2, dataDir, logDir, sessionTimeoutMs } = options;
    const log = options.log ?? (() => undefined);
    const env: NodeJS.ProcessEnv = { ...process.env, ...(options.secretFile ? { [CLUSTER_SECRET_ENV]: options.secretFile } : {}) };
    const ensembleSize = options.zkEnsemble ?? 1;
    const zookeeper = ensembleSize > 1 ? await kit.privateZooKeeperEnsemble(ensembleSize) : kit.ensembleOf([await kit.privateZooKeeper()]);
    log(`ZooKeeper on ${zookeeper.connectString} (${zookeeper.members.map((member) => member.dataDir).join(', ')})`);
    const name = kit.uniqueClusterName('chaos');
    // A slow start (three ZooKeeper JVMs warming up on a busy machine) is no finding of a chaos run.
    const common = { cluster: name, sessionTimeoutMs, readyTimeoutMs: START_TIMEOUT_MS };
    const links = new Map<string, ReplicaLinks>();
    const serverOptions: KvServerOptions[] = [];
    // Held until every proxy is listening: a port merely found free could be handed to a proxy next.
    const held = await kit.HeldPorts.hold(partitions * replicas + gates);
    const ports = held.ports;
    for (let p = 0; p < partitions; p++) {
      for (let r = 1; r <= replicas; r++) {
        const id = `p${p}-r${r}`;
        const port = ports.shift()!;
        const offset = options.clockOffsets?.get(id);
        const inbound = await kit.TcpProxy.start(port);
        const zk = await Promise.all(zookeeper.members.map((member) => kit.TcpProxy.start(member.port)));
        links.set(id, { inbound, zookeeper: zk });
        serverOptions.push({
          ...common,
          zk: zk.map((proxy) => proxy.address).join(','),
          advertise: inbound.url,
          partition: `p${p}`,
          id,
          port,
          dataDir: path.join(dataDir, id),
          logFile: path.join(logDir, `${id}.log`),
          replication: options.replication,
          replicaTimeoutMs: REPLICA_TIMEOUT_MS,
          env: offset ? { ...env, [CLOCK_OFFSET_ENV]: String(offset) } : env,
        });
      }
    }
    const gateOptions: KvGateOptions[] = [];
    for (let g = 0; g < gates; g++) {
      gateOptions.push({ ...common, zk: zookeeper.connectString, port: ports.shift()!, logFile: path.join(logDir, `gate-${g}.log`), env });
    }
    await held.releaseAll();
    const starts = await Promise.allSettled([...serverOptions.map(kit.startKvServer), ...gateOptions.map(kit.startKvGate)]);
    const servers = new Map<string, TestServer>();
    const gateList: TestGate[] = [];
    serverOptions.forEach((server, index) => {
      const start = starts[index];
      if (start.status === 'fulfilled') {
        servers.set(server.id, { id: server.id, partition: server.partition, port: server.port, url: server.advertise as string, process: start.value, options: server });
      }
    });
    gateOptions.forEach((gate, index) => {
      const start = starts[serverOptions.length + index];
      if (start.status === 'fulfilled') gateList.push({ port: gate.port, url: `http://127.0.0.1:${gate.port}`, process: start.value, options: gate });
    });
    const cluster = new kit.TestCluster(name, zookeeper, logDir, servers, gateList);
    const chaos = new ChaosCluster(zookeeper, cluster, links, gateList);
    const failure = starts.find((start): start is PromiseRejectedResult => start.status === 'rejected');
    try {
      if (failure) throw failure.reason;
      await cluster.waitForSettled(60_000);
    } catch (error) {
      const tails = cluster.logTails();
      await chaos.stop();
      throw new Error(`the chaos cluster did not start: ${(error as Error).message}\n${tails}`, { cause: error });
    }
    return chaos;
  }

  get gateUrls(): string[] {
    return this.gateList.map((gate) => gate.url);
  }

  get gates(): TestGate[] {
    return this.gateList;
  }

  get servers(): TestServer[] {
    return [...this.cluster.servers.values()];
  }

  server(id: string): TestServer {
    const server = this.cluster.servers.get(id);
    if (!server) throw new Error(`no replica ${id}`);
    return server;
  }

  partitions(): string[] {
    return [...this.cluster.layout().keys()].sort();
  }

  replicasOf(partition: string): string[] {
    return [...(this.cluster.layout().get(partition) ?? [])].sort();
  }

  /** The view of the first gate that answers, or undefined (none does, or not in time). */
  async view(): Promise<ClusterView | undefined> {
    try {
      return await this.cluster.clusterView();
    } catch {
      return undefined;
    }
  }

  /**
   * Waits (bounded) until some gate sees every partition with a leader and a
   * full in-sync set; returns that gate's url. Every gate is asked in turn,
   * so that one gate that never recovers does not hide a settled cluster.
   */
  async waitForSettled(timeoutMs: number): Promise<string> {
    const layout = { partitions: this.cluster.layout() };
    let reasons: string[] = [];
    try {
      return await kit.waitFor(
        async () => {
          reasons = [];
          for (const url of this.gateUrls) {
            try {
              const reason = kit.unsettledReason(await kit.fetchClusterView(url, 1000), layout);
              if (reason === undefined) return url;
              reasons.push(`${url}: ${reason}`);
            } catch (error) {
              reasons.push(`${url}: ${(error as Error).message}`);
            }
          }
          return undefined;
        },
        { timeoutMs, intervalMs: 250, what: 'a gate to see every partition with a leader and a full in-sync set' },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message} (${reasons.join('; ')})`, { cause: error });
    }
  }

  /** GET /readyz of every gate: url → status (0 when it does not answer). */
  async gateReadiness(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const url of this.gateUrls) {
      try {
        const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
        await response.body?.cancel();
        result[url] = response.status;
      } catch {
        result[url] = 0;
      }
    }
    return result;
  }

  /** Cuts a replica off from peers, gates and ZooKeeper: its connections are reset and new ones refused. */
  isolate(id: string): void {
    const links = this.links.get(id);
    if (!links) return;
    this.isolated.add(id);
    links.inbound.cut();
    for (const proxy of links.zookeeper) proxy.cut();
  }

  /**
   * Restores the links of a replica cut off by isolate(), and only those:
   * TcpProxy.restore() on a proxy that is open pipes its live connections a
   * second time, so every byte would be forwarded twice.
   */
  heal(id: string): void {
    const links = this.links.get(id);
    if (!links || !this.isolated.delete(id)) return;
    links.inbound.restore();
    for (const proxy of links.zookeeper) proxy.restore();
  }

  /** Holds what reaches a replica (appends, gates' requests) `ms` before it is delivered; its answers are not held. */
  lag(id: string, ms: number): void {
    const links = this.links.get(id);
    if (!links) return;
    this.lagging.add(id);
    links.inbound.lag(ms);
  }

  /** Resets the connections into a replica, dropping what a lag still holds for it. */
  resetInbound(id: string): void {
    this.links.get(id)?.inbound.resetConnections();
  }

  /** Ends a lag() (what is held is delivered), and only that: see heal(). */
  unlag(id: string): void {
    const links = this.links.get(id);
    if (!links || !this.lagging.delete(id)) return;
    links.inbound.restore();
  }

  /** Replicas whose inbound link lags. */
  get laggingReplicas(): string[] {
    return [...this.lagging];
  }

  /** Replicas currently cut off. */
  get isolatedReplicas(): string[] {
    return [...this.isolated];
  }

  /** Kills every process (ZooKeeper too) and closes the proxies. Safe to call twice. */
  async stop(): Promise<void> {
    await this.cluster.stop();
    await this.zookeeper.kill().catch(() => undefined);
    await Promise.all([...this.links.values()].flatMap((links) => [links.inbound.close(), ...links.zookeeper.map((proxy) => proxy.close())]));
  }
}

