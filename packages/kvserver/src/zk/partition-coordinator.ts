import {
  Ring,
  ZkError,
  ZkSession,
  clusterPaths,
  encodeRecord,
  ensurePartitionOnRing,
  parseLeader,
  parseMember,
  parseRing,
  parseState,
  type ClusterPaths,
  type LeaderRecord,
  type StateRecord,
} from '@kvstore/topology';
import { decideCampaign, decideResign } from '../replication/election';
import type { Replica } from '../replication/replica';
import { applyIsrChange } from '../replication/election';
import { DeposedError, type IsrChange, type IsrCoordination, type Logger, type Member } from '../replication/types';

export interface CoordinatorOptions {
  zk: string;
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
}

/**
 * The ZooKeeper side of a replica: membership, the ring, `/state` and the
 * `/leader` node, all followed by watches. It tells the Replica what
 * ZooKeeper says, campaigns when the leader's session is gone, and is the
 * replica's only writer of `/state` (IsrCoordination).
 */
export class PartitionCoordinator implements IsrCoordination {
  private session: ZkSession | undefined;
  private generation = 0;
  private readonly paths: ClusterPaths;
  private members: Member[] = [];
  private state: StateRecord | undefined;
  private leaderNode: LeaderRecord | undefined;
  private campaigning = false;
  private campaignAgain = false;
  private closed = false;
  ring: Ring | undefined;

  constructor(
    private readonly options: CoordinatorOptions,
    private readonly self: Member,
    private readonly replica: Replica,
    private readonly logger: Logger,
  ) {
    this.paths = clusterPaths(options.cluster);
  }

  get connected(): boolean {
    return this.session !== undefined && !this.session.isClosed;
  }

  /** Owns `key` on the current ring (true until the ring is known, which readiness reports). */
  owns(key: string): boolean {
    return this.ring === undefined || this.ring.ownerOf(key) === this.options.partition;
  }

  async start(): Promise<void> {
    const session = await this.openSession();
    const { partition } = this.options;
    await session.mkdirp(this.paths.members(partition));
    await ensurePartitionOnRing(session, this.options.cluster, partition);
    await this.createIfAbsent(session, this.paths.state(partition), encodeRecord({ epoch: 0, leader: null, isr: [] }));
    if (!this.options.holdsData) await this.resign(session);
    await this.register(session);
  }

  /** Leaves cleanly: a replica whose data goes with it gives up its in-sync place, then the session (and its nodes) end. */
  async shutdown(): Promise<void> {
    this.closed = true;
    const session = this.session;
    if (!session) return;
    try {
      if (!this.options.durable) await this.resign(session);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not resign from the in-sync set');
    }
    this.replica.stop();
    session.close();
  }

  async updateIsr(epoch: number, change: IsrChange): Promise<string[]> {
    const session = this.requireSession();
    const path = this.paths.state(this.options.partition);
    for (;;) {
      const node = await session.getData(path);
      const state = node && parseState(node.data);
      if (!node || !state || state.epoch !== epoch || state.leader !== this.self.id) {
        throw new DeposedError(`state is now epoch ${state?.epoch} led by ${state?.leader}`);
      }
      const next = applyIsrChange(state, change);
      const isr = [...new Set([...next.isr, this.self.id])].sort();
      try {
        await session.setData(path, encodeRecord({ ...next, isr }), node.version);
        return isr;
      } catch (error) {
        if (!(error instanceof ZkError && error.code === 'BAD_VERSION')) throw error;
      }
    }
  }

  private async openSession(): Promise<ZkSession> {
    const session = await ZkSession.connect(this.options.zk, { sessionTimeoutMs: this.options.sessionTimeoutMs });
    this.session = session;
    this.generation++;
    session.on('expired', () => void this.onExpired(session));
    session.on('disconnected', () => this.logger.warn({}, 'disconnected from ZooKeeper'));
    return session;
  }

  private async onExpired(expired: ZkSession): Promise<void> {
    if (this.session !== expired || this.closed) return;
    this.logger.warn({}, 'ZooKeeper session expired: stepping down and rejoining');
    this.replica.stepDown('ZooKeeper session expired');
    expired.close();
    this.session = undefined;
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await this.register(await this.openSession());
        return;
      } catch (error) {
        this.logger.warn({ err: error, attempt }, 'could not rejoin ZooKeeper yet');
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * attempt)));
      }
    }
  }

  private async register(session: ZkSession): Promise<void> {
    const path = await session.create(this.paths.memberPrefix(this.options.partition), encodeRecord(this.self), 'ephemeral-sequential');
    this.logger.info({ path }, 'registered as a member');
    await Promise.all([this.watchRing(), this.watchMembers(), this.watchState(), this.watchLeader()]);
  }

  private async resign(session: ZkSession): Promise<void> {
    const path = this.paths.state(this.options.partition);
    for (;;) {
      const node = await session.getData(path);
      if (!node) return;
      const next = decideResign(this.self.id, parseState(node.data));
      if (!next) return;
      try {
        await session.setData(path, encodeRecord(next), node.version);
        this.logger.info({ isr: next.isr }, 'left the in-sync set');
        return;
      } catch (error) {
        if (!(error instanceof ZkError && error.code === 'BAD_VERSION')) throw error;
      }
    }
  }

  /** Runs `read` now and again whenever its watch fires, while this session lasts. */
  private follow(read: (session: ZkSession, rewatch: () => void) => Promise<void>): Promise<void> {
    const generation = this.generation;
    const run = async (): Promise<void> => {
      const session = this.session;
      if (!session || generation !== this.generation || this.closed) return;
      try {
        await read(session, () => void run());
      } catch (error) {
        this.logger.warn({ err: error }, 'ZooKeeper read failed; retrying');
        setTimeout(() => void run(), 200).unref();
      }
    };
    return run();
  }

  private watchRing(): Promise<void> {
    return this.follow(async (session, rewatch) => {
      const node = await session.getData(this.paths.ring, rewatch);
      if (node) this.ring = new Ring(parseRing(node.data));
    });
  }

  private watchMembers(): Promise<void> {
    const membersPath = this.paths.members(this.options.partition);
    return this.follow(async (session, rewatch) => {
      // Sorted by sequence number, so a replica's newest registration wins over one whose session has not ended yet.
      const children = ((await session.getChildren(membersPath, rewatch)) ?? []).sort();
      const records = await Promise.all(children.map((child) => session.getData(`${membersPath}/${child}`)));
      const byId = new Map<string, Member>();
      records.forEach((record, index) => {
        if (record) byId.set(parseMember(record.data).id, { ...parseMember(record.data), incarnation: children[index] });
      });
      this.members = [...byId.values()];
      this.replica.setMembers(this.members);
      this.evaluate();
    });
  }

  private watchState(): Promise<void> {
    return this.follow(async (session, rewatch) => {
      const node = await session.getData(this.paths.state(this.options.partition), rewatch);
      this.state = node && parseState(node.data);
      this.evaluate();
    });
  }

  private watchLeader(): Promise<void> {
    return this.follow(async (session, rewatch) => {
      const node = await session.getData(this.paths.leader(this.options.partition), rewatch);
      this.leaderNode = node && parseLeader(node.data);
      this.evaluate();
    });
  }

  /** Tells the replica what ZooKeeper now says, and campaigns if the leader's session is gone. */
  private evaluate(): void {
    const state = this.state;
    if (!state || this.closed) return;
    const leader =
      this.leaderNode?.id === state.leader ? this.leaderNode : this.members.find((member) => member.id === state.leader);
    if (state.leader !== null && state.leader !== this.self.id) this.replica.becomeFollower(state.epoch, leader);
    else this.replica.observeState(state);
    if (!this.leaderNode && !this.replica.isLeader) this.campaign();
  }

  /** One campaign at a time; an event during one is looked at again when it ends. */
  private campaign(): void {
    if (this.campaigning) {
      this.campaignAgain = true;
      return;
    }
    this.campaigning = true;
    this.tryToLead()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'campaign failed'))
      .finally(() => {
        this.campaigning = false;
        if (this.campaignAgain) {
          this.campaignAgain = false;
          this.evaluate();
        }
      });
  }

  private async tryToLead(): Promise<void> {
    const session = this.session;
    if (!session) return;
    const { partition } = this.options;
    const node = await session.getData(this.paths.state(partition));
    if (!node) return;
    const leaderNodeExists = (await session.getData(this.paths.leader(partition))) !== undefined;
    const next = decideCampaign({
      self: this.self.id,
      state: parseState(node.data),
      liveMembers: this.members.map((member) => member.id),
      leaderNodeExists,
    });
    if (!next) return;
    try {
      await session.setData(this.paths.state(partition), encodeRecord(next), node.version);
    } catch (error) {
      if (error instanceof ZkError && error.code === 'BAD_VERSION') return; // someone else won; the watch tells us who
      throw error;
    }
    this.replica.becomeLeader(next.epoch, next.isr);
    await this.publishLeader(session, next.epoch);
    if (!this.replica.isLeader) this.logger.warn({ epoch: next.epoch }, 'lost leadership before publishing the leader node');
  }

  /** Creates the ephemeral `/leader` node, waiting out a stale one left by a session that has not expired yet. */
  private async publishLeader(session: ZkSession, epoch: number): Promise<void> {
    const path = this.paths.leader(this.options.partition);
    const record = encodeRecord({ id: this.self.id, url: this.self.url, epoch });
    while (this.replica.isLeader && this.replica.epoch === epoch && this.session === session) {
      try {
        await session.create(path, record, 'ephemeral');
        this.logger.info({ epoch }, 'published the leader node');
        return;
      } catch (error) {
        if (!(error instanceof ZkError && error.code === 'NODE_EXISTS')) throw error;
        this.logger.warn({ epoch }, 'a leader node of an ended session is still there; waiting for it to go');
        await new Promise<void>((resolve) => {
          void session.getData(path, resolve).then((node) => node ?? resolve());
        });
      }
    }
  }

  private async createIfAbsent(session: ZkSession, path: string, data: Buffer): Promise<void> {
    try {
      await session.create(path, data, 'persistent');
    } catch (error) {
      if (!(error instanceof ZkError && error.code === 'NODE_EXISTS')) throw error;
    }
  }

  private requireSession(): ZkSession {
    if (!this.session) throw new DeposedError('no ZooKeeper session');
    return this.session;
  }
}
