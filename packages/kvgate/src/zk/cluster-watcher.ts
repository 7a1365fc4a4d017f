import { setTimeout as delay } from 'node:timers/promises';
import {
  ZkError,
  ZkSession,
  clusterPaths,
  encodeRecord,
  isValidName,
  parseLeader,
  parseMember,
  parseRing,
  parseState,
  type ClusterPaths,
  type LeaderRecord,
  type MemberRecord,
  type RingRecord,
  type StateRecord,
  type ZkSessionOptions,
} from '@kvstore/topology';
import type { Logger } from 'pino';
import type { ClusterSnapshot, PartitionRecords } from '../routing/snapshot';

export interface ClusterWatcherOptions {
  connectString: string;
  cluster: string;
  sessionTimeoutMs: number;
  /** Registered as `/gates/g-<seq>` = `{url}` for as long as the session lives. */
  gateUrl: string;
  logger: Logger;
  /** Called with a fresh snapshot after every change that was read. */
  onSnapshot: (snapshot: ClusterSnapshot) => void;
  connect?: (connectString: string, options: ZkSessionOptions) => Promise<ZkSession>;
}

interface WatchedPartition {
  /** The session generation whose watches cover this partition. */
  generation: number;
  leader?: LeaderRecord;
  state?: StateRecord;
  /** Keyed by member node name (`m-<seq>`), so only new members are read. */
  members: Map<string, MemberRecord>;
}

/** Returned by a read that belongs to a session that has since ended. */
const STALE = Symbol('stale');
const MAX_RETRY_DELAY_MS = 2000;

/**
 * Keeps a snapshot of the cluster's records with ZooKeeper watches (one-shot,
 * so every callback reads again and re-arms): the ring, the partition list
 * and each partition's leader, state and members. When the session expires
 * every watch and our gate node are gone, so a new session re-reads
 * everything; until then routing keeps the last snapshot.
 */
export class ClusterWatcher {
  private readonly paths: ClusterPaths;
  private readonly partitions = new Map<string, WatchedPartition>();
  /** Per path, the number of the latest read, so an older answer never overwrites a newer one. */
  private readonly tickets = new Map<string, number>();
  private readonly stopping = new AbortController();
  private session: ZkSession | undefined;
  private generation = 0;
  private ring: RingRecord | undefined;
  private connected = false;

  constructor(private readonly options: ClusterWatcherOptions) {
    this.paths = clusterPaths(options.cluster);
  }

  /** Ready to route: connected to ZooKeeper with a ring loaded. */
  readiness(): { ready: boolean; reason: string } {
    if (!this.connected) return { ready: false, reason: 'not connected to ZooKeeper' };
    if (!this.ring) return { ready: false, reason: `no ring at ${this.paths.ring} yet` };
    return { ready: true, reason: 'ok' };
  }

  /** Connects (retrying until it succeeds or `stop` is called) and loads everything once. */
  async start(): Promise<void> {
    for (let attempt = 0; !this.stopping.signal.aborted; attempt++) {
      try {
        await this.openSession();
        return;
      } catch (error) {
        this.options.logger.warn({ err: error, attempt }, 'could not open a ZooKeeper session; retrying');
        await this.pause(attempt);
      }
    }
  }

  /** Closes the session: our gate node disappears at once. */
  stop(): void {
    this.stopping.abort();
    this.generation++;
    this.connected = false;
    this.session?.close();
  }

  private async openSession(): Promise<void> {
    const connect = this.options.connect ?? ((connectString, options) => ZkSession.connect(connectString, options));
    const session = await connect(this.options.connectString, { sessionTimeoutMs: this.options.sessionTimeoutMs });
    if (this.stopping.signal.aborted) return session.close();
    const generation = ++this.generation;
    this.session = session;
    this.connected = true;
    session.on('expired', () => this.onExpired(generation));
    session.on('disconnected', () => this.setConnected(generation, false));
    session.on('connected', () => this.setConnected(generation, true));
    try {
      await session.mkdirp(this.paths.gates);
      const gate = await session.create(this.paths.gatePrefix, encodeRecord({ url: this.options.gateUrl }), 'ephemeral-sequential');
      this.options.logger.info({ gate, generation }, 'connected to ZooKeeper');
    } catch (error) {
      // Without our gate node this session is of no use; the caller opens another.
      this.generation++;
      this.connected = false;
      session.close();
      throw error;
    }
    await Promise.all([this.watchRing(generation), this.watchPartitions(generation)]);
  }

  private setConnected(generation: number, connected: boolean): void {
    if (generation !== this.generation) return;
    this.connected = connected;
    this.options.logger.info({ connected }, connected ? 'ZooKeeper connection back' : 'ZooKeeper connection lost');
  }

  private onExpired(generation: number): void {
    if (generation !== this.generation || this.stopping.signal.aborted) return;
    this.options.logger.warn('ZooKeeper session expired; opening a new one');
    this.generation++;
    this.connected = false;
    this.session?.close();
    this.start().catch((error: unknown) => this.options.logger.error({ err: error }, 'could not reopen the session'));
  }

  private async watchRing(generation: number): Promise<void> {
    const rewatch = (): void => this.rewatch(generation, () => this.watchRing(generation));
    await this.readData(generation, this.paths.ring, rewatch, (data) => {
      this.ring = data && this.parse('ring', data, parseRing);
    });
  }

  private async watchPartitions(generation: number): Promise<void> {
    const rewatch = (): void => this.rewatch(generation, () => this.watchPartitions(generation));
    const children = await this.readChildren(generation, this.paths.partitions, rewatch);
    if (children === STALE) return;
    const names = new Set(children.filter((name) => isValidName(name)));
    for (const name of this.partitions.keys()) if (!names.has(name)) this.partitions.delete(name);
    const added: Promise<void>[] = [];
    for (const name of names) {
      // A partition read by an earlier session has no watches left: read it again.
      if (this.partitions.get(name)?.generation === generation) continue;
      this.partitions.set(name, { members: new Map(), ...this.partitions.get(name), generation });
      added.push(this.watchLeader(generation, name), this.watchState(generation, name), this.watchMembers(generation, name));
    }
    this.publish();
    await Promise.all(added);
  }

  private async watchLeader(generation: number, name: string): Promise<void> {
    const rewatch = (): void => this.rewatch(generation, () => this.watchLeader(generation, name));
    await this.readData(generation, this.paths.leader(name), rewatch, (data) => {
      const partition = this.partitions.get(name);
      if (!partition) return;
      partition.leader = data && this.parse('leader', data, parseLeader);
      this.options.logger.info({ partition: name, leader: partition.leader ?? null }, 'leader node read');
    });
  }

  private async watchState(generation: number, name: string): Promise<void> {
    const rewatch = (): void => this.rewatch(generation, () => this.watchState(generation, name));
    await this.readData(generation, this.paths.state(name), rewatch, (data) => {
      const partition = this.partitions.get(name);
      if (partition) partition.state = data && this.parse('state', data, parseState);
    });
  }

  private async watchMembers(generation: number, name: string): Promise<void> {
    const path = this.paths.members(name);
    const ticket = this.nextTicket(path);
    const rewatch = (): void => this.rewatch(generation, () => this.watchMembers(generation, name));
    const children = await this.readChildren(generation, path, rewatch);
    if (children === STALE) return;
    const known = this.partitions.get(name)?.members ?? new Map<string, MemberRecord>();
    // Member records never change (a restarted replica registers a new node), so each is read once.
    const records = await Promise.all(
      children.map(async (child): Promise<[string, MemberRecord | undefined] | typeof STALE> => {
        const cached = known.get(child);
        if (cached) return [child, cached];
        const node = await this.retry(generation, (session) => session.getData(`${path}/${child}`));
        if (node === STALE) return STALE;
        return [child, node && this.parse('member', node.data, parseMember)];
      }),
    );
    const partition = this.partitions.get(name);
    if (!partition || this.tickets.get(path) !== ticket || records.includes(STALE)) return;
    partition.members = new Map();
    for (const entry of records) if (entry !== STALE && entry[1]) partition.members.set(entry[0], entry[1]);
    this.publish();
  }

  /** Reads a node and arms a watch on it (on its creation when it is missing), then applies and publishes. */
  private async readData(
    generation: number,
    path: string,
    rewatch: () => void,
    apply: (data: Buffer | undefined) => void,
  ): Promise<void> {
    const ticket = this.nextTicket(path);
    const node = await this.retry(generation, (session) => session.getData(path, rewatch));
    if (node === STALE || this.tickets.get(path) !== ticket) return;
    apply(node?.data);
    this.publish();
  }

  /** Children with a child watch; for a missing node, an existence watch and an empty list. */
  private async readChildren(generation: number, path: string, rewatch: () => void): Promise<string[] | typeof STALE> {
    for (;;) {
      const children = await this.retry(generation, (session) => session.getChildren(path, rewatch));
      if (children !== undefined) return children;
      const created = await this.retry(generation, (session) => session.getData(path, rewatch));
      if (created === STALE) return STALE;
      if (created === undefined) return [];
      // Created between the two reads: its watch now is a data watch, blind to children. Read them again.
    }
  }

  private rewatch(generation: number, read: () => Promise<void>): void {
    if (generation !== this.generation) return;
    read().catch((error: unknown) => this.options.logger.error({ err: error }, 'watch callback failed'));
  }

  /**
   * Runs a read on the current session, retrying a lost connection (the
   * session may survive it). An expired or replaced session yields STALE:
   * the new session re-reads everything.
   */
  private async retry<T>(generation: number, read: (session: ZkSession) => Promise<T>): Promise<T | typeof STALE> {
    for (let attempt = 0; ; attempt++) {
      const session = this.session;
      if (generation !== this.generation || !session) return STALE;
      try {
        return await read(session);
      } catch (error) {
        if (error instanceof ZkError && error.code === 'SESSION_EXPIRED') return STALE;
        this.options.logger.warn({ err: error, attempt }, 'ZooKeeper read failed; retrying');
        await this.pause(attempt);
      }
    }
  }

  private pause(attempt: number): Promise<void> {
    const ms = Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.min(attempt, 5));
    return delay(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  private nextTicket(path: string): number {
    const ticket = (this.tickets.get(path) ?? 0) + 1;
    this.tickets.set(path, ticket);
    return ticket;
  }

  /** A malformed record (hand-edited, foreign) is logged and treated as absent. */
  private parse<T>(what: string, data: Buffer, parser: (data: Buffer) => T): T | undefined {
    try {
      return parser(data);
    } catch (error) {
      this.options.logger.warn({ err: error, what }, 'ignoring a malformed record');
      return undefined;
    }
  }

  private publish(): void {
    const partitions = new Map<string, PartitionRecords>();
    for (const [name, watched] of this.partitions) {
      const records: PartitionRecords = { members: [...watched.members.values()] };
      if (watched.leader) records.leader = watched.leader;
      if (watched.state) records.state = watched.state;
      partitions.set(name, records);
    }
    this.options.onSnapshot(this.ring ? { ring: this.ring, partitions } : { partitions });
  }
}
