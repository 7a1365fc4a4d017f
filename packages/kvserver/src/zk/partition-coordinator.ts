import {
  WatchedChildren,
  ZkError,
  ZkSession,
  openRootWarning,
  watchRecord,
  type RecordProblem,
  type Watch,
  type WatchedNode,
  type ZkClient,
  type ZkDigest,
  type ZkSessionOptions,
} from '@kvstore/cluster';
import {
  RecordError,
  Ring,
  clusterPaths,
  encodeRecord,
  parseLeader,
  parseMember,
  parseMigration,
  parseRing,
  parseState,
  type LeaderRecord,
  type MemberRecord,
  type MigrationRecord,
  type RingRecord,
  type StateRecord,
} from '@kvstore/protocol';
import { ensurePartitionOnRing } from './ring-store';
import { DeposedError, type IsrChange, type IsrCoordination, type Logger, type Member } from '../replication/types';
import { campaign } from './campaign';
import { membersFrom } from './member-list';
import { partitionNodes, type PartitionNodes } from './partition-nodes';
import { handOver, resign, stepAside, updateIsr } from './state-writes';
import type { ReplicaControl } from './replica-control';
import type { RoutingRecords } from './routing-records';

export interface CoordinatorOptions {
  zk: string;
  /** The cluster's ZooKeeper identity (--zk-auth-file); undefined: open nodes. */
  zkDigest?: ZkDigest | undefined;
  cluster: string;
  partition: string;
  sessionTimeoutMs: number;
  /**
   * The replica starts with the data it had (a recovered data dir). One that
   * does not (memory, or a new or wiped data dir) must leave the in-sync set
   * before it joins, or it could be elected with nothing.
   */
  holdsData: boolean;
  /** The replica's data outlives the process (a data dir): it keeps its in-sync place when it exits. */
  durable: boolean;
  /** The slot table or the migration changed (resharding acts on it). */
  onRoutingChange?: () => void;
  /** Opens a session (default ZkSession.connect); tests pass an in-memory ZooKeeper. */
  connect?: (connectString: string, options: ZkSessionOptions) => Promise<ZkClient>;
  /** Further watches (the users of `--auth on`), attached to every session with the partition's own. */
  watches?: readonly Watch[];
}

/** This replica's term as ZooKeeper knows it: the `/leader` node it created, on which session. */
interface Published {
  epoch: number;
  session: ZkClient;
}

/**
 * The ZooKeeper side of a replica: membership, the ring, `/state` and the
 * `/leader` node, all followed by watches. It tells the replica (through
 * ReplicaControl) what ZooKeeper says, campaigns when no `/leader` node
 * exists, gives up its `/leader` node and its name in `/state` as soon as
 * the replica stops leading, and is the replica's only writer of `/state` (IsrCoordination).
 */
export class PartitionCoordinator implements IsrCoordination, RoutingRecords {
  private session: ZkClient | undefined;
  /** The session's connection is up (it may drop and come back within the session). */
  private connected = false;
  /** This replica's member node (its incarnation) on the current session; undefined until registered. */
  private memberNode: string | undefined;
  private published: Published | undefined;
  private members: Member[] = [];
  private ring: Ring | undefined;
  private readonly ringNode: WatchedNode<RingRecord>;
  private readonly migrationNode: WatchedNode<MigrationRecord>;
  private readonly stateNode: WatchedNode<StateRecord>;
  private readonly leaderNode: WatchedNode<LeaderRecord>;
  private readonly memberNodes: WatchedChildren<WatchedNode<MemberRecord>>;
  /** The session a reconciliation runs on. One on an ended session may wait forever for an answer: it holds up nothing. */
  private reconciling: ZkClient | undefined;
  private reconcileAgain = false;
  /** After taking the lead failed, no campaign before this (Date.now()), so a failure cannot spin. */
  private campaignHeldUntil = 0;
  private heldCampaign: NodeJS.Timeout | undefined;
  private closed = false;
  /** A rejoin after an expired session is under way (one at a time). */
  private rejoining = false;

  constructor(
    private readonly options: CoordinatorOptions,
    private readonly self: Member,
    private readonly replica: ReplicaControl,
    private readonly logger: Logger,
  ) {
    const paths = clusterPaths(options.cluster);
    const { partition } = options;
    const evaluate = (): void => this.evaluate();
    const routingChanged = (): void => this.options.onRoutingChange?.();
    this.ringNode = watchRecord(paths.ring, parseRing, () => {
      const record = this.ringNode.value;
      // A ring this replica wrote itself (sealing) may be newer than the watch's last read.
      if (record && (!this.ring || record.version >= this.ring.version)) this.ring = new Ring(record);
      routingChanged();
    }, logger);
    this.migrationNode = watchRecord(paths.migration, parseMigration, routingChanged, logger);
    this.stateNode = watchRecord(paths.state(partition), parseState, evaluate, logger);
    this.leaderNode = watchRecord(paths.leader(partition), parseLeader, evaluate, logger);
    const membersPath = paths.members(partition);
    this.memberNodes = new WatchedChildren(
      membersPath,
      (name, notify) => watchRecord(`${membersPath}/${name}`, parseMember, notify, logger),
      () => this.onMembers(),
      logger,
    );
  }

  /** The slot table as last read (or written) by this replica. */
  get currentRing(): Ring | undefined {
    return this.ring;
  }

  adoptRing(record: RingRecord): void {
    if (!this.ring || record.version > this.ring.version) this.ring = new Ring(record);
    this.options.onRoutingChange?.();
  }

  get currentMigration(): MigrationRecord | undefined {
    return this.migrationNode.value;
  }

  zk(): ZkClient | undefined {
    return this.session && !this.session.isClosed && this.connected ? this.session : undefined;
  }

  /** Why this replica cannot serve as far as ZooKeeper goes, or undefined. */
  notReadyBecause(): string | undefined {
    if (!this.session || this.session.isClosed || !this.connected) return 'not connected to ZooKeeper';
    const problems = this.problems();
    if (problems.length > 0) return problems.map((problem) => `malformed record at ${problem.path}: ${problem.error}`).join('; ');
    if (!this.memberNode) return 'not registered in ZooKeeper yet';
    if (!this.ring) return 'ring not loaded';
    return undefined;
  }

  problems(): RecordProblem[] {
    return [this.ringNode, this.migrationNode, this.stateNode, this.leaderNode, this.memberNodes].flatMap((watch) => watch.problems());
  }

  /**
   * Joins: the partition's nodes, the ring, the in-sync set left if the
   * replica holds nothing, then the member node. A malformed `/ring` or
   * `/state` on the way is waited out (reported by readiness), not fatal.
   */
  async start(): Promise<void> {
    const session = await this.openSession();
    const nodes = this.nodes(session);
    await session.mkdirp(nodes.membersPath);
    const openRoot = await openRootWarning(session, clusterPaths(this.options.cluster).root, this.options.zkDigest);
    if (openRoot !== undefined) this.logger.warn({}, openRoot);
    await this.createIfAbsent(session, nodes.statePath, encodeRecord({ epoch: 0, leader: null, isr: [] }));
    await this.attachWatches(session);
    await this.untilWellFormed(this.ringNode, () => ensurePartitionOnRing(session, this.options.cluster, this.options.partition));
    if (!this.options.holdsData) await this.untilWellFormed(this.stateNode, () => this.resign(nodes));
    await this.register(session);
  }

  /** Leaves cleanly: a replica whose data goes with it gives up its in-sync place, then the session (and its nodes) end. */
  async shutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.heldCampaign);
    for (const watch of this.allWatches()) watch.stop();
    const session = this.session;
    if (!session) return;
    try {
      if (!this.options.durable) await this.resign(this.nodes(session));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not resign from the in-sync set');
    }
    this.replica.stop();
    session.close();
  }

  /** A malformed `/state` holds the change until the record is read again (retrying at once would read it in a loop). */
  updateIsr(epoch: number, change: IsrChange): Promise<string[]> {
    return this.untilWellFormed(this.stateNode, () => {
      if (!this.session) return Promise.reject(new DeposedError('no ZooKeeper session'));
      return updateIsr(this.nodes(this.session), epoch, change);
    });
  }

  handOver(epoch: number, target: Member): Promise<void> {
    if (!this.session) return Promise.reject(new DeposedError('no ZooKeeper session'));
    return handOver(this.nodes(this.session), epoch, target);
  }

  private nodes(session: ZkClient): PartitionNodes {
    return partitionNodes(session, clusterPaths(this.options.cluster), this.options.partition, this.self);
  }

  private async openSession(): Promise<ZkClient> {
    const connect = this.options.connect ?? ((connectString, options) => ZkSession.connect(connectString, options));
    const session = await connect(this.options.zk, { sessionTimeoutMs: this.options.sessionTimeoutMs, digest: this.options.zkDigest });
    this.session = session;
    this.connected = true;
    session.on('expired', () => void this.onExpired(session));
    session.on('disconnected', () => this.onConnection(session, false));
    session.on('connected', () => this.onConnection(session, true));
    this.replica.observeZooKeeper(true);
    return session;
  }

  private onConnection(session: ZkClient, connected: boolean): void {
    if (session !== this.session || this.closed) return;
    this.connected = connected;
    if (connected) this.logger.info({}, 'ZooKeeper connection back');
    else this.logger.warn({}, 'disconnected from ZooKeeper');
    this.replica.observeZooKeeper(connected);
    // What happened while cut off (a newer epoch, the leader node gone) can be acted on now.
    if (connected) this.reconcile();
  }

  private async onExpired(expired: ZkClient): Promise<void> {
    if (this.session !== expired || this.closed) return;
    this.logger.warn({}, 'ZooKeeper session expired: stepping down and rejoining');
    this.replica.observeZooKeeper(false);
    this.replica.stepDown('ZooKeeper session expired');
    expired.close();
    this.session = undefined;
    this.connected = false;
    this.memberNode = undefined;
    this.published = undefined; // its /leader node ended with the session
    if (this.rejoining) return; // the running rejoin opens the next session
    this.rejoining = true;
    try {
      for (let attempt = 1; !this.closed; attempt++) {
        try {
          const session = await this.openSession();
          await this.attachWatches(session);
          await this.register(session);
          if (this.memberNode) return;
          // That session ended too while joining: open another.
        } catch (error) {
          this.logger.warn({ err: error, attempt }, 'could not rejoin ZooKeeper yet');
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * attempt)));
      }
    } finally {
      this.rejoining = false;
    }
  }

  private async attachWatches(session: ZkClient): Promise<void> {
    await Promise.all(this.allWatches().map((watch) => watch.attach(session)));
  }

  private allWatches(): Watch[] {
    return [this.ringNode, this.migrationNode, this.stateNode, this.leaderNode, this.memberNodes, ...(this.options.watches ?? [])];
  }

  private async register(session: ZkClient): Promise<void> {
    const path = await session.create(this.nodes(session).membersPath + '/m-', encodeRecord(this.self), 'ephemeral-sequential');
    if (session !== this.session) return;
    this.memberNode = path.slice(path.lastIndexOf('/') + 1);
    this.logger.info({ path }, 'registered as a member');
    this.evaluate();
  }

  private async resign(nodes: PartitionNodes): Promise<void> {
    const isr = await resign(nodes);
    if (isr) this.logger.info({ isr }, 'left the in-sync set');
  }

  /** Runs `action` until the record it reads is well-formed, waiting for `watch` to read the node again after each failure. */
  private async untilWellFormed<T>(watch: WatchedNode<unknown>, action: () => Promise<T>): Promise<T> {
    for (;;) {
      const readAgain = watch.nextRead(); // armed first: a fix read while `action` runs is not missed
      try {
        return await action();
      } catch (error) {
        if (!(error instanceof RecordError) || this.closed) throw error;
        this.logger.warn({ path: watch.path, error: error.message }, 'waiting for a malformed record to be fixed');
        await readAgain;
      }
    }
  }

  private onMembers(): void {
    const records = [...this.memberNodes.children].map(([name, watch]) => [name, watch.value] as const);
    this.members = membersFrom(records);
    this.replica.setMembers(this.members);
    this.evaluate();
  }

  /** Tells the replica what ZooKeeper now says, then acts on it. */
  private evaluate(): void {
    const state = this.stateNode.value;
    if (!state || this.closed || !this.memberNode) return;
    const leaderNode = this.leaderNode.value;
    const leader = leaderNode?.id === state.leader ? leaderNode : this.members.find((member) => member.id === state.leader);
    if (state.leader !== null && state.leader !== this.self.id) this.replica.becomeFollower(state.epoch, leader);
    else this.replica.observeState(state);
    this.reconcile();
  }

  /** One reconciliation at a time per session; an event during one is looked at again when it ends. */
  private reconcile(): void {
    const session = this.session;
    if (!session || this.closed) return;
    if (this.reconciling === session) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = session;
    this.reconcileAgain = false;
    this.reconcileOnce(session)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not act on ZooKeeper state; will again on its next change'))
      .finally(() => {
        if (this.reconciling !== session) return;
        this.reconciling = undefined;
        if (this.reconcileAgain) this.reconcile();
      });
  }

  /**
   * Makes ZooKeeper match the replica: a term that ended (deposed, stepped
   * down) gives up its `/leader` node and its name in `/state`; a term whose
   * `/leader` node is gone (deleted by hand) ends; and with no leader node
   * at all, this replica campaigns.
   */
  private async reconcileOnce(session: ZkClient): Promise<void> {
    const memberNode = this.memberNode;
    if (!memberNode) return;
    const nodes = this.nodes(session);
    const published = this.published?.session === session ? this.published : undefined;
    if (published) {
      // The term is forgotten only once ZooKeeper has it: a failure is tried again on the next event.
      const leading = this.replica.isLeader && this.replica.epoch === published.epoch;
      if (!leading) this.logger.info({ epoch: published.epoch }, 'no longer leading: giving up the leader node');
      else if (!(await this.leaderNodeIsOurs(nodes, published.epoch))) this.replica.stepDown('the leader node is gone');
      if (!this.replica.isLeader || this.replica.epoch !== published.epoch) {
        await stepAside(nodes, published.epoch);
        if (this.published === published) this.published = undefined;
      }
    }
    if (this.replica.isLeader || this.leaderNode.value || this.leaderNode.problem) return;
    const held = this.campaignHeldUntil - Date.now();
    if (held > 0) {
      clearTimeout(this.heldCampaign);
      this.heldCampaign = setTimeout(() => this.reconcile(), held + 1).unref();
      return;
    }
    await this.tryToLead(nodes, memberNode);
  }

  /** From the watch if it agrees, else from a fresh read (the watch may not have seen our own creation yet). */
  private async leaderNodeIsOurs(nodes: PartitionNodes, epoch: number): Promise<boolean> {
    const ours = (record: { id: string; epoch: number } | undefined): boolean => record?.id === this.self.id && record.epoch === epoch;
    if (ours(this.leaderNode.value)) return true;
    const node = await nodes.session.getData(nodes.leaderPath);
    if (!node) return false;
    try {
      return ours(parseLeader(node.data));
    } catch (error) {
      if (error instanceof RecordError) return true; // cannot tell: the watch reports it, and nobody can campaign meanwhile
      throw error;
    }
  }

  private async tryToLead(nodes: PartitionNodes, memberNode: string): Promise<void> {
    let won;
    try {
      won = await campaign(nodes, memberNode, this.replica.epoch);
    } catch (error) {
      if (error instanceof RecordError) return; // `/state` is malformed: its watch reports it, and a fix wakes us
      throw error;
    }
    if (!won || nodes.session !== this.session) return; // a campaign on an ended session won nothing that lasts
    const { next, handedOver } = won;
    this.published = { epoch: next.epoch, session: nodes.session };
    try {
      this.replica.becomeLeader(next.epoch, next.isr, next.incarnations, next.excluded, handedOver);
    } catch (error) {
      this.logger.error({ err: error, epoch: next.epoch }, 'won the election but could not take the lead: stepping aside');
      this.published = undefined;
      this.campaignHeldUntil = Date.now() + this.options.sessionTimeoutMs;
      await stepAside(nodes, next.epoch);
      this.reconcileAgain = true; // to arm the held campaign's timer
      return;
    }
    this.logger.info({ epoch: next.epoch, isr: next.isr }, 'won the election and published the leader node');
  }

  private async createIfAbsent(session: ZkClient, path: string, data: Buffer): Promise<void> {
    try {
      await session.create(path, data, 'persistent');
    } catch (error) {
      if (!(error instanceof ZkError && error.code === 'NODE_EXISTS')) throw error;
    }
  }
}
