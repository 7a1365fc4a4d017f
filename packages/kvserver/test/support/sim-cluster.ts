import type { LogEntry } from '../../src/replication/entry';
import type { Clock } from '../../src/clock';
import { MemoryLog } from '../../src/replication/log';
import { Replica } from '../../src/replication/replica';
import { DEFAULT_REPLICATION_OPTIONS, silentLogger, type Member, type ReplicationObserver, type ReplicationOptions } from '../../src/replication/types';
import { MemoryStore } from '../../src/store/memory-store';
import { ManualClock } from '../../src/testing/manual-clock';
import { MemoryCoordination } from '../../src/testing/memory-coordination';
import { MemoryNetwork } from '../../src/testing/memory-network';
import { SlowDiskLog } from './slow-disk-log';

/** A memory store that remembers the order entries were applied in. */
export class RecordingStore extends MemoryStore {
  readonly appliedSeqs: number[] = [];
  /** Set by a test to play a disk that refuses writes. */
  override failure: Error | undefined = undefined;

  override apply(entry: LogEntry): void {
    super.apply(entry);
    this.appliedSeqs.push(entry.seq);
  }
}

export interface SimNode {
  id: string;
  url: string;
  replica: Replica;
  log: MemoryLog;
  store: RecordingStore;
  /** Has a live ZooKeeper session: listed as a member and told of `/state` changes. */
  inZooKeeper: boolean;
  /** Its member node's name: a new one for every session, as ZooKeeper's sequential nodes give. */
  incarnation: string;
  /** What its replica reported to its ReplicationObserver. */
  observed: Observed;
}

/** A ReplicationObserver's calls, as counts and values. */
export interface Observed {
  epochs: number[];
  snapshotsServed: number;
  snapshotsInstalled: number;
  expirySweeps: number[];
  strongReads: { lease: number; round: number };
}

function recordingObserver(observed: Observed): ReplicationObserver {
  return {
    epochChanged: (epoch) => void observed.epochs.push(epoch),
    snapshotServed: () => void observed.snapshotsServed++,
    snapshotInstalled: () => void observed.snapshotsInstalled++,
    expirySweep: (expired) => void observed.expirySweeps.push(expired),
    strongRead: (path) => void observed.strongReads[path]++,
  };
}

/** The shared clock as a replica whose wall clock is `offsetMs` off sees it (timers run on the shared one). */
function skewed(clock: ManualClock, offsetMs: number): Clock {
  return { now: () => clock.now() + offsetMs, monotonic: () => clock.monotonic(), setTimeout: (callback, ms) => clock.setTimeout(callback, ms), clearTimeout: (handle) => clock.clearTimeout(handle) };
}

/**
 * A partition of replicas wired to in-memory twins: one ManualClock, one
 * MemoryNetwork, one MemoryCoordination. ZooKeeper's watches are played by
 * `publishMembers` and the state watcher, the way zk/partition-coordinator.ts
 * relays them; elections happen only when a test calls `elect`.
 */
export class SimCluster {
  readonly clock = new ManualClock();
  readonly network = new MemoryNetwork(this.clock);
  readonly coordination = new MemoryCoordination();
  readonly options: ReplicationOptions;
  private readonly nodes = new Map<string, SimNode>();
  /** Every `ok` append answer a follower gave for entries not yet durable on it (there must be none). */
  readonly undurableAnswers: string[] = [];
  /** Whose session holds the ephemeral `/leader` node. */
  private leaderNodeHolder: string | undefined;
  private registrations = 0;

  /**
   * `clockOffsetsMs`: how far each replica's wall clock is off (TTLs are judged by wall clocks).
   * `diskDelayMs`: each log flush takes this long on the clock (SlowDiskLog); without it, logs are durable at once.
   */
  constructor(
    ids: readonly string[],
    options: Partial<ReplicationOptions> = {},
    private readonly clockOffsetsMs: Readonly<Record<string, number>> = {},
    private readonly diskDelayMs?: () => number,
  ) {
    this.options = { ...DEFAULT_REPLICATION_OPTIONS, ...options };
    for (const id of ids) this.nodes.set(id, this.createNode(id));
    this.coordination.watch((state) => {
      // A planned handover removes the old leader's `/leader` node in the same write.
      if (state.leader === null && state.transferTo !== undefined) this.leaderNodeHolder = undefined;
      this.publishState();
    });
    this.publishMembers();
  }

  /** A cluster whose first replica leads at epoch 1 with every replica in sync. */
  static async started(
    ids: readonly string[] = ['a', 'b', 'c'],
    options: Partial<ReplicationOptions> = {},
    clockOffsetsMs: Readonly<Record<string, number>> = {},
    diskDelayMs?: () => number,
  ): Promise<SimCluster> {
    const sim = new SimCluster(ids, options, clockOffsetsMs, diskDelayMs);
    await sim.elect(ids[0]!);
    // A replica that has just started waits out the promise it may have made before (readLeaseMs) before its term starts.
    await sim.advance(sim.options.readLeaseMs);
    return sim;
  }

  node(id: string): SimNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no replica ${id}`);
    return node;
  }

  replica(id: string): Replica {
    return this.node(id).replica;
  }

  url(id: string): string {
    return this.node(id).url;
  }

  members(): Member[] {
    return [...this.nodes.values()].filter((node) => node.inZooKeeper).map(({ id, url, incarnation }) => ({ id, url, incarnation }));
  }

  /** `id` campaigns (as the coordinator would once `/leader` is gone) and must win. */
  async elect(id: string): Promise<void> {
    const won = this.coordination.campaign({
      self: id,
      liveMembers: this.members().map((member) => member.id),
      leaderNodeExists: this.leaderNodeHolder !== undefined,
    });
    if (!won) throw new Error(`${id} may not lead; state is ${JSON.stringify(this.coordination.state)}`);
    const { next, handedOver } = won;
    this.replica(id).becomeLeader(next.epoch, next.isr, next.incarnations, next.excluded, handedOver);
    this.leaderNodeHolder = id;
    await this.settle();
  }

  /** The process dies: unreachable, stopped, its session ends. */
  kill(id: string): void {
    this.network.cut(this.url(id));
    this.replica(id).stop();
    this.endSession(id);
  }

  /** The process is SIGSTOPped: calls to and from it hang, its session ends, it knows nothing of it. */
  freeze(id: string): void {
    this.network.pause(this.url(id));
    this.endSession(id);
  }

  /** A frozen process runs again, still believing what it believed (its ZooKeeper client has not caught up yet). */
  thaw(id: string): void {
    this.network.resume(this.url(id));
  }

  /** The replica gets a new session: reachable again, a member again, told the current state. */
  rejoin(id: string): void {
    const node = this.node(id);
    this.network.heal(node.url);
    this.network.resume(node.url);
    this.coordination.startSession(id);
    node.inZooKeeper = true;
    node.incarnation = this.nextIncarnation();
    this.publishMembers();
    this.publishState();
  }

  /** The process restarts with empty memory: a new Replica under the same id and url, which resigns from the in-sync set first. */
  restartFresh(id: string): void {
    this.kill(id);
    this.nodes.set(id, this.createNode(id));
    this.coordination.resign(id);
    this.rejoin(id);
  }

  /**
   * The process restarts with a data dir that holds less than it had
   * acknowledged (an old image restored, or `--fsync off` and a power loss):
   * it believes it holds the data, so it does not resign. It registers anew
   * before its old session has ended, so its id never leaves the members.
   */
  restartWithLostData(id: string): void {
    const old = this.node(id);
    old.replica.stop();
    this.nodes.set(id, this.createNode(id));
    this.publishMembers();
    this.publishState();
  }

  /** Runs everything that needs no clock time: delivers every message under way and its consequences. */
  async settle(): Promise<void> {
    for (let round = 0, quietRounds = 0; quietRounds < 3; round++) {
      if (round > 10_000) throw new Error('the simulated network never went quiet: some loop keeps sending');
      await new Promise((resolve) => setImmediate(resolve));
      quietRounds = this.network.idle ? quietRounds + 1 : 0;
    }
  }

  /** Moves the clock forward by `ms`, settling after each timer that fires. */
  async advance(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    await this.settle();
    for (let due = this.clock.nextDueAt(); due !== undefined && due <= until; due = this.clock.nextDueAt()) {
      this.clock.advance(due - this.clock.now());
      await this.settle();
    }
    this.clock.advance(until - this.clock.now());
    await this.settle();
  }

  private createNode(id: string): SimNode {
    const url = `http://${id}.sim:7000`;
    const log = this.diskDelayMs ? new SlowDiskLog(this.clock, this.diskDelayMs) : new MemoryLog();
    const store = new RecordingStore();
    const observed: Observed = { epochs: [], snapshotsServed: 0, snapshotsInstalled: 0, expirySweeps: [], strongReads: { lease: 0, round: 0 } };
    const replica = new Replica({
      self: { id, url },
      partition: 'p0',
      log,
      store,
      clock: skewed(this.clock, this.clockOffsetsMs[id] ?? 0),
      transport: this.network.transportFor(url),
      coordination: this.coordination.forReplica(id),
      options: this.options,
      logger: silentLogger,
      observer: recordingObserver(observed),
    });
    this.network.register(url, {
      handleAppend: async (request) => {
        const response = await replica.handleAppend(request);
        if (response.ok && log.durableSeq < response.matchSeq) this.undurableAnswers.push(`${id} answered ok to ${response.matchSeq} holding ${log.durableSeq} durably`);
        return response;
      },
      installSnapshot: (request) => replica.installSnapshot(request),
      snapshotFor: (epoch) => replica.snapshotFor(epoch),
    });
    return { id, url, replica, log, store, inZooKeeper: true, incarnation: this.nextIncarnation(), observed };
  }

  private nextIncarnation(): string {
    return `m-${String(++this.registrations).padStart(10, '0')}`;
  }

  private endSession(id: string): void {
    this.node(id).inZooKeeper = false;
    this.coordination.endSession(id);
    if (this.leaderNodeHolder === id) this.leaderNodeHolder = undefined;
    this.publishMembers();
  }

  private publishMembers(): void {
    const members = this.members();
    for (const node of this.nodes.values()) if (node.inZooKeeper) node.replica.setMembers(members);
  }

  /** What PartitionCoordinator.evaluate tells each replica when `/state` changes. */
  private publishState(): void {
    const { state } = this.coordination;
    const leader = this.members().find((member) => member.id === state.leader);
    for (const node of this.nodes.values()) {
      if (!node.inZooKeeper) continue;
      if (state.leader !== null && state.leader !== node.id) node.replica.becomeFollower(state.epoch, leader);
      else node.replica.observeState(state);
    }
  }
}

export interface Tracked<T> {
  readonly state: 'pending' | 'fulfilled' | 'rejected';
  readonly value: T | undefined;
  readonly error: unknown;
}

/** Watches a promise without awaiting it, so a test can check that it is still pending. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: { state: Tracked<T>['state']; value: T | undefined; error: unknown } = { state: 'pending', value: undefined, error: undefined };
  promise.then(
    (value) => Object.assign(tracked, { state: 'fulfilled', value }),
    (error: unknown) => Object.assign(tracked, { state: 'rejected', error }),
  );
  return tracked;
}

export const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
