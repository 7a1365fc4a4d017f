import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureClusterSecretFile, ensureZkAuthFile, readZkAuthFile } from '@kvstore/cluster';
import { type ClusterView, type MigrationView, type Ring } from '@kvstore/protocol';
import { readSlotRecords, type SlotRecords } from './cluster-records';
import {
  HeldPorts,
  ensureTlsFiles,
  schemeOf,
  trustCa,
  fetchClusterView,
  startKvGate,
  startKvServer,
  unsettledReason,
  waitFor,
  waitForSettledCluster,
  type KvGateOptions,
  type KvServerOptions,
  type ManagedProcess,
  type TlsFileSet,
  type ZooKeeperEnsemble,
  type ZooKeeperHandle,
} from './harness';
import { tempDir } from './temp';
import { zookeeperForTests } from './test-zookeeper';

let clusterCount = 0;

/** A cluster name no other test shares, even on one ZooKeeper: it is the --cluster root. */
export function uniqueClusterName(prefix = 't'): string {
  const safe = prefix.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 30);
  clusterCount += 1;
  return `${safe}-${process.pid}-${clusterCount}-${Math.random().toString(36).slice(2, 6)}`;
}

export interface ClusterOptions {
  partitions?: number;
  replicas?: number;
  gates?: number;
  replication?: 'sync' | 'async';
  minInsync?: number;
  writeTimeoutMs?: number;
  replicaTimeoutMs?: number;
  sessionTimeoutMs?: number;
  maxKeys?: number;
  maxValueBytes?: number;
  /** Give each replica a --data-dir (default true); false keeps them in memory. */
  persistent?: boolean;
  /** Give every process ZooKeeper credentials of the cluster's own (`<dir>/zk.auth`): its nodes are closed to anyone else. */
  zkAuth?: boolean;
  /** HTTPS on every process, with a CA and certificate made under the cluster's dir (`cluster.tls`); this process trusts the CA. */
  tls?: boolean;
  /** Appended to every kvserver's command line. */
  serverArgs?: string[];
  /** Appended to every kvgate's command line. */
  gateArgs?: string[];
  /** Gates and replicas with `--auth on`, the first gate creating the user admin and writing its token to `adminTokenFile`. */
  auth?: boolean;
  /** Default: zookeeperForTests(). */
  zookeeper?: ZooKeeperHandle | ZooKeeperEnsemble;
  /** Prefix of the cluster name (default "t"). */
  name?: string;
  /** Bound on the wait for every partition to have a leader and a full isr (default 30000 ms). */
  readyTimeoutMs?: number;
  /** Bound on each process's wait to answer GET /healthz (default 15000 ms; more where ZooKeeper JVMs start alongside). */
  startTimeoutMs?: number;
}

export interface TestServer {
  id: string;
  partition: string;
  port: number;
  url: string;
  process: ManagedProcess;
  /** What it was started with; restartServer reuses it. */
  options: KvServerOptions;
}

export interface TestGate {
  port: number;
  url: string;
  process: ManagedProcess;
  options: KvGateOptions;
}

export class TestCluster {
  private stopped = false;

  constructor(
    readonly name: string,
    readonly zookeeper: ZooKeeperHandle | ZooKeeperEnsemble,
    /** Logs (logs/<id>.log), replica data (data/<id>) and the secret (cluster.secret, in every member's options) of this cluster. */
    readonly dir: string,
    readonly servers: Map<string, TestServer>,
    private readonly gateList: TestGate[],
    /** With `auth`: where the gates write the token of the user admin they create. */
    readonly adminTokenFile?: string,
  ) {}

  /** The admin's token once a gate has written it; undefined without `auth`. */
  adminToken(): string | undefined {
    if (this.adminTokenFile === undefined || !fs.existsSync(this.adminTokenFile)) return undefined;
    return fs.readFileSync(this.adminTokenFile, 'utf8').trim();
  }

  /** With `tls`: the CA, certificate and key every process was started with. */
  get tls(): TlsFileSet | undefined {
    return [...this.servers.values()][0]?.options.tls;
  }

  get gateUrls(): string[] {
    return this.gateList.map((gate) => gate.url);
  }

  get gates(): ManagedProcess[] {
    return this.gateList.map((gate) => gate.process);
  }

  /** Partition names to replica ids, as started. */
  layout(): Map<string, string[]> {
    const layout = new Map<string, string[]>();
    for (const server of this.servers.values()) layout.set(server.partition, [...(layout.get(server.partition) ?? []), server.id]);
    return layout;
  }

  /** GET /v1/cluster from the first gate that answers. */
  async clusterView(): Promise<ClusterView> {
    let lastError: unknown = new Error('no gate is running');
    for (const gate of this.gateList.filter((candidate) => candidate.process.running)) {
      try {
        return await fetchClusterView(gate.url, 2000, this.adminToken());
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /** The leader of `partition` according to the gate's view, if it has one. */
  async leaderOf(partition: string): Promise<TestServer | undefined> {
    const view = await this.clusterView();
    const leader = view.partitions.find((candidate) => candidate.name === partition)?.leader;
    return leader ? this.servers.get(leader) : undefined;
  }

  /** Waits for `partition` to have a leader (other than `not`, after a failover) and returns it. */
  async waitForLeader(partition: string, options: { not?: string; timeoutMs?: number } = {}): Promise<TestServer> {
    return waitFor(
      async () => {
        const leader = await this.leaderOf(partition);
        return leader && leader.id !== options.not ? leader : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 20_000, what: `partition ${partition} to have a leader${options.not ? ` other than ${options.not}` : ''}` },
    );
  }

  /** Waits for the in-sync set of `partition` to have exactly `size` members and returns it. */
  async waitForIsr(partition: string, size: number, options: { timeoutMs?: number } = {}): Promise<string[]> {
    return waitFor(
      async () => {
        const view = await this.clusterView();
        const isr = view.partitions.find((candidate) => candidate.name === partition)?.isr ?? [];
        return isr.length === size ? isr : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 20_000, what: `partition ${partition} to have ${size} replicas in sync` },
    );
  }

  /** Waits until every partition has a leader and all its replicas in sync. */
  waitForSettled(timeoutMs = 30_000): Promise<ClusterView> {
    const gate = this.gateList.find((candidate) => candidate.process.running) ?? this.gateList[0];
    return waitForSettledCluster(gate.url, { partitions: this.layout() }, timeoutMs, () => this.adminToken());
  }

  /** Why the cluster is not settled, or undefined if it is (for assertions). */
  async unsettledReason(): Promise<string | undefined> {
    return unsettledReason(await this.clusterView(), { partitions: this.layout() });
  }

  /** Starts the replicas of a partition that is not in the cluster yet (they join it as kvserver decides: `--join`). */
  async startPartition(partition: string, replicas = 3, extraArgs: string[] = []): Promise<TestServer[]> {
    const template = [...this.servers.values()][0]!.options;
    const held = await HeldPorts.hold(replicas);
    const options = held.ports.map((port, index): KvServerOptions => {
      const id = `${partition}-r${index + 1}`;
      return {
        ...template,
        partition,
        id,
        port,
        dataDir: template.dataDir === undefined ? undefined : path.join(this.dir, 'data', id),
        extraArgs: [...(template.extraArgs ?? []), ...extraArgs],
        logFile: path.join(this.dir, 'logs', `${id}.log`),
      };
    });
    await held.releaseAll();
    const started: TestServer[] = [];
    for (const server of options) {
      const child = await startKvServer(server);
      const entry = { id: server.id, partition, port: server.port, url: `${schemeOf(server)}://127.0.0.1:${server.port}`, process: child, options: server };
      this.servers.set(server.id, entry);
      started.push(entry);
    }
    return started;
  }

  /** Stops (SIGTERM) every replica of `partition` and leaves them out of the cluster's layout (a partition removed by a migration, say). */
  async stopPartition(partition: string): Promise<void> {
    const replicas = this.replicasOf(partition);
    await Promise.all(replicas.map((server) => server.process.stop()));
    for (const server of replicas) this.servers.delete(server.id);
  }

  replicasOf(partition: string): TestServer[] {
    return [...this.servers.values()].filter((server) => server.partition === partition);
  }

  /** `/ring`, `/migration` and the migration's view, read from ZooKeeper (see readSlotRecords). */
  slotRecords(): Promise<SlotRecords> {
    const zkAuthFile = [...this.servers.values()][0]?.options.zkAuthFile;
    return readSlotRecords(this.zookeeper.connectString, this.name, zkAuthFile === undefined ? undefined : readZkAuthFile(zkAuthFile));
  }

  async ring(): Promise<Ring> {
    return (await this.slotRecords()).ring;
  }

  /**
   * Waits until the migration's view (read from ZooKeeper) satisfies
   * `until`, and returns it: `(view) => view.state === 'done'`, say. Pass
   * the migration's id to wait for that one and not the last one.
   */
  async waitForMigration(
    until: (view: MigrationView) => boolean,
    options: { id?: string; timeoutMs?: number; what?: string } = {},
  ): Promise<MigrationView> {
    return waitFor(
      async () => {
        const { view } = await this.slotRecords();
        return view && (options.id === undefined || view.id === options.id) && until(view) ? view : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 200, what: options.what ?? 'the migration to reach a state' },
    );
  }

  /** Stops the replica if it still runs (SIGTERM), then starts it again with the same flags and port. */
  async restartServer(id: string): Promise<TestServer> {
    const server = this.servers.get(id);
    if (!server) throw new Error(`no replica ${id} in cluster ${this.name}`);
    await server.process.stop();
    server.process = await startKvServer(server.options);
    return server;
  }

  /** What gate `index` was started with: restartGate starts it again with these (a test may change them first). */
  gateOptions(index: number): KvGateOptions {
    return this.gateList[index].options;
  }

  /** Stops gate `index` if it still runs, then starts it again with the same flags and port. */
  async restartGate(index: number): Promise<TestGate> {
    const gate = this.gateList[index];
    await gate.process.stop();
    gate.process = await startKvGate(gate.options);
    return gate;
  }

  /** Kills every process of the cluster (not ZooKeeper, which it does not own). Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const processes = [...this.gateList.map((gate) => gate.process), ...[...this.servers.values()].map((server) => server.process)];
    await Promise.all(processes.map((child) => child.kill()));
  }

  /** The last lines of every log of the cluster, to attach to a failure. */
  logTails(lines = 15): string {
    const all = [...this.servers.values(), ...this.gateList].map((member) => member.process);
    return all.map((child) => `--- ${child.name} (${child.describeExit()}) ${child.logFile}\n${child.logTail(lines)}`).join('\n');
  }
}

/**
 * Starts a whole cluster on free ports under a unique name, with a secret of
 * its own: replicas p<i>-r<j> and gates, all at once, then waits (bounded) until a gate sees every
 * partition with a leader and a full in-sync set. Call
 * `t.after(() => cluster.stop())`.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const { partitions = 2, replicas = 3, gates = 1, persistent = true } = options;
  const zookeeper = options.zookeeper ?? (await zookeeperForTests());
  const name = uniqueClusterName(options.name);
  const dir = tempDir(name);
  const secretFile = ensureClusterSecretFile(path.join(dir, 'cluster.secret'));
  const tls = options.tls === true ? ensureTlsFiles(path.join(dir, 'tls')) : undefined;
  if (tls !== undefined) trustCa(tls.caFile);
  const common = {
    zk: zookeeper.connectString,
    cluster: name,
    clusterSecretFile: secretFile,
    zkAuthFile: options.zkAuth === true ? ensureZkAuthFile(path.join(dir, 'zk.auth')) : undefined,
    tls,
    writeTimeoutMs: options.writeTimeoutMs,
    sessionTimeoutMs: options.sessionTimeoutMs,
    readyTimeoutMs: options.startTimeoutMs,
  };

  const servers = new Map<string, TestServer>();
  const serverOptions: KvServerOptions[] = [];
  // Held until the processes start: two ports merely found free could be the same one.
  const held = await HeldPorts.hold(partitions * replicas + gates);
  const ports = held.ports;
  for (let p = 0; p < partitions; p++) {
    for (let r = 1; r <= replicas; r++) {
      const id = `p${p}-r${r}`;
      serverOptions.push({
        ...common,
        partition: `p${p}`,
        id,
        port: ports.shift()!,
        dataDir: persistent ? path.join(dir, 'data', id) : undefined,
        replication: options.replication,
        minInsync: options.minInsync,
        replicaTimeoutMs: options.replicaTimeoutMs,
        maxKeys: options.maxKeys,
        maxValueBytes: options.maxValueBytes,
        extraArgs: [...(options.auth ? ['--auth', 'on'] : []), ...(options.serverArgs ?? [])],
        logFile: path.join(dir, 'logs', `${id}.log`),
      });
    }
  }
  const gateOptions: KvGateOptions[] = [];
  const adminTokenFile = options.auth ? path.join(dir, 'admin.token') : undefined;
  const authArgs = adminTokenFile === undefined ? [] : ['--auth', 'on', '--auth-bootstrap-token-file', adminTokenFile];
  for (let g = 0; g < gates; g++) {
    const extraArgs = [...authArgs, ...(options.gateArgs ?? [])];
    gateOptions.push({ ...common, port: ports.shift()!, extraArgs, logFile: path.join(dir, 'logs', `gate-${g}.log`) });
  }

  await held.releaseAll();
  // Everything starts at once; whatever did start is recorded (in layout
  // order) before a failure is reported, so that stop() still reaches it.
  const starts = await Promise.allSettled([...serverOptions.map(startKvServer), ...gateOptions.map(startKvGate)]);
  const started = (index: number): ManagedProcess | undefined => {
    const start = starts[index];
    return start.status === 'fulfilled' ? start.value : undefined;
  };
  serverOptions.forEach((server, index) => {
    const child = started(index);
    const url = `${schemeOf(server)}://127.0.0.1:${server.port}`;
    if (child) servers.set(server.id, { id: server.id, partition: server.partition, port: server.port, url, process: child, options: server });
  });
  const gateList: TestGate[] = [];
  gateOptions.forEach((gate, index) => {
    const child = started(serverOptions.length + index);
    if (child) gateList.push({ port: gate.port, url: `${schemeOf(gate)}://127.0.0.1:${gate.port}`, process: child, options: gate });
  });
  const cluster = new TestCluster(name, zookeeper, dir, servers, gateList, adminTokenFile);
  const failure = starts.find((start): start is PromiseRejectedResult => start.status === 'rejected');
  try {
    if (failure) throw failure.reason;
    await cluster.waitForSettled(options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    const tails = cluster.logTails();
    await cluster.stop();
    throw new Error(`cluster ${name} did not start: ${(error as Error).message}\n${tails}`, { cause: error });
  }
  return cluster;
}
