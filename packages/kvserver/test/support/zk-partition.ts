import { clusterPaths, parseLeader, parseState, type LeaderRecord, type StateRecord } from '@kvstore/protocol';
import { MemoryZooKeeper, type MemoryZkSession } from '@kvstore/cluster/testing';
import { systemClock } from '../../src/clock';
import { MemoryLog } from '../../src/replication/log';
import { Replica, type ReplicaDeps } from '../../src/replication/replica';
import { DEFAULT_REPLICATION_OPTIONS, silentLogger, type Logger } from '../../src/replication/types';
import { MemoryStore } from '../../src/store/memory-store';
import { MemoryNetwork } from '../../src/testing/memory-network';
import { PartitionCoordinator } from '../../src/zk/partition-coordinator';

export const CLUSTER = 'c';
export const PARTITION = 'p0';
export const PATHS = clusterPaths(CLUSTER);

export interface ZkNode {
  id: string;
  replica: Replica;
  coordinator: PartitionCoordinator;
  /** Every session the coordinator opened, the current one last. */
  sessions: MemoryZkSession[];
}

export interface NodeOptions {
  /** Replaces the Replica (e.g. one that records or fails calls). */
  makeReplica?: (deps: ReplicaDeps) => Replica;
  holdsData?: boolean;
  logger?: Logger;
}

/**
 * Replicas of one partition, each with a real Replica and a real
 * PartitionCoordinator, on an in-memory ZooKeeper and an in-memory network,
 * in real time.
 */
export class ZkPartition {
  readonly zk = new MemoryZooKeeper();
  readonly network = new MemoryNetwork(systemClock);
  readonly nodes = new Map<string, ZkNode>();

  constructor(readonly sessionTimeoutMs = 1000) {}

  /** Creates the replica and its coordinator; `start` joins ZooKeeper. */
  add(id: string, options: NodeOptions = {}): ZkNode {
    const url = `http://${id}.test:7000`;
    const deps: ReplicaDeps = {
      self: { id, url },
      partition: PARTITION,
      log: new MemoryLog(),
      store: new MemoryStore(),
      clock: systemClock,
      transport: this.network.transportFor(url),
      coordination: {
      updateIsr: (epoch, change) => node.coordinator.updateIsr(epoch, change),
      handOver: (epoch, target) => node.coordinator.handOver(epoch, target),
    },
      options: { ...DEFAULT_REPLICATION_OPTIONS, replicaTimeoutMs: 200 },
      logger: silentLogger,
    };
    const replica = options.makeReplica?.(deps) ?? new Replica(deps);
    this.network.register(url, replica);
    const sessions: MemoryZkSession[] = [];
    const coordinator = new PartitionCoordinator(
      {
        zk: 'memory',
        cluster: CLUSTER,
        partition: PARTITION,
        sessionTimeoutMs: this.sessionTimeoutMs,
        holdsData: options.holdsData ?? true,
        durable: true,
        connect: () => {
          const session = this.zk.connect();
          sessions.push(session);
          return Promise.resolve(session);
        },
      },
      { id, url },
      replica,
      options.logger ?? silentLogger,
    );
    const node: ZkNode = { id, replica, coordinator, sessions };
    this.nodes.set(id, node);
    return node;
  }

  async start(ids: readonly string[], options: NodeOptions = {}): Promise<void> {
    await Promise.all(ids.map((id) => this.add(id, options).coordinator.start()));
  }

  node(id: string): ZkNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no replica ${id}`);
    return node;
  }

  session(id: string): MemoryZkSession {
    return this.node(id).sessions.at(-1)!;
  }

  state(): StateRecord {
    return parseState(this.zk.get(PATHS.state(PARTITION))!.data);
  }

  leaderNode(): LeaderRecord | undefined {
    const node = this.zk.get(PATHS.leader(PARTITION));
    return node && parseLeader(node.data);
  }

  /** The member node names of replica `id`. */
  memberNodes(id: string): string[] {
    const path = PATHS.members(PARTITION);
    return this.zk.children(path).filter((name) => this.zk.get(`${path}/${name}`)?.data.toString().includes(`"id":"${id}"`));
  }

  leaders(): string[] {
    return [...this.nodes.values()].filter((node) => node.replica.isLeader).map((node) => node.id);
  }

  /**
   * One leader, agreed on by `/state`, `/leader` and the replicas: its id.
   * Undefined while that is not so.
   */
  settledLeader(): string | undefined {
    const state = this.state();
    const leaderNode = this.leaderNode();
    const leaders = this.leaders();
    if (leaders.length !== 1 || state.leader !== leaders[0] || leaderNode?.id !== leaders[0] || leaderNode.epoch !== state.epoch) return undefined;
    return this.node(leaders[0]!).replica.epoch === state.epoch ? leaders[0] : undefined;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.coordinator.shutdown()));
  }
}

/** Polls `check` until it returns something other than undefined or false. */
export async function waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = check();
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
