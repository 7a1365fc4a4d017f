import { setTimeout as delay } from 'node:timers/promises';
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
  clusterPaths,
  encodeRecord,
  isValidName,
  parseMigration,
  parseProgress,
  parseRing,
  unavailable,
  type ClusterPaths,
  type MigrationRecord,
  type ProgressRecord,
  type RingRecord,
} from '@kvstore/protocol';
import type { Logger } from 'pino';
import { NO_MIGRATION, type ClusterSnapshot, type MigrationRecords, type PartitionRecords } from '../routing/snapshot';
import { PartitionWatch } from './partition-watch';

export interface ClusterWatcherOptions {
  connectString: string;
  /** The cluster's ZooKeeper identity (--zk-auth-file); undefined: open nodes. */
  zkDigest?: ZkDigest | undefined;
  cluster: string;
  sessionTimeoutMs: number;
  /** Registered as `/gates/g-<seq>` = `{url}` for as long as the session lives. */
  gateUrl: string;
  logger: Logger;
  /** Called with a fresh snapshot after every change that was read. */
  onSnapshot: (snapshot: ClusterSnapshot) => void;
  connect?: (connectString: string, options: ZkSessionOptions) => Promise<ZkClient>;
  /** Further watches (the users of `--auth on`), attached to every session with the cluster's own. */
  watches?: readonly Watch[];
}

const MAX_RETRY_DELAY_MS = 2000;

/**
 * Keeps a snapshot of the cluster's records with ZooKeeper watches: the
 * ring, the partition list and each partition's leader, state and members;
 * and, apart from routing (so that progress reports wake no waiting
 * request), the migration and its progress records. A malformed record
 * keeps the last good one and is reported (`problems`; readiness too when
 * routing uses it). When the session expires every watch and our gate node
 * are gone, so a new session re-reads everything; until then routing keeps
 * the last snapshot.
 */
export class ClusterWatcher {
  private readonly paths: ClusterPaths;
  private readonly ring: WatchedNode<RingRecord>;
  private readonly partitions: WatchedChildren<PartitionWatch>;
  private readonly migration: WatchedNode<MigrationRecord>;
  private readonly progress: WatchedChildren<WatchedNode<ProgressRecord>>;
  /** Built anew at every change of the migration's records, so that its identity says whether anything changed. */
  private migrationRecords: MigrationRecords = NO_MIGRATION;
  private readonly stopping = new AbortController();
  private session: ZkClient | undefined;
  private connected = false;
  /** Every watch (the users too) has read once: until then the gate is not ready. Later sessions re-read over the last values. */
  private loaded = false;
  private starting = false;

  constructor(private readonly options: ClusterWatcherOptions) {
    const { logger } = options;
    this.paths = clusterPaths(options.cluster);
    const publish = (): void => this.publish();
    this.ring = watchRecord(this.paths.ring, parseRing, publish, logger);
    this.partitions = new WatchedChildren(
      this.paths.partitions,
      (name, notify) => (isValidName(name) ? new PartitionWatch(this.paths, name, notify, logger) : undefined),
      publish,
      logger,
    );
    const refreshMigration = (): void => {
      const progress = new Map<string, ProgressRecord>();
      for (const [name, watch] of this.progress.children) if (watch.value) progress.set(name, watch.value);
      this.migrationRecords = this.migration.value ? { migration: this.migration.value, progress } : { progress };
    };
    this.migration = watchRecord(this.paths.migration, parseMigration, refreshMigration, logger);
    this.progress = new WatchedChildren(
      this.paths.progress,
      (name, notify) => (isValidName(name) ? watchRecord(this.paths.progressOf(name), parseProgress, notify, logger) : undefined),
      refreshMigration,
      logger,
    );
  }

  /** Ready to route: connected to ZooKeeper with every watch (the users too) read once, a ring loaded, and no malformed record held on to. */
  readiness(): { ready: boolean; reason: string } {
    if (!this.connected) return { ready: false, reason: 'not connected to ZooKeeper' };
    // With --auth on, a gate ready before its users are read would answer 401 to valid tokens.
    if (!this.loaded) return { ready: false, reason: 'loading the records from ZooKeeper' };
    const problems = this.routingProblems();
    if (problems.length > 0) {
      return { ready: false, reason: problems.map((problem) => `malformed record at ${problem.path}: ${problem.error}`).join('; ') };
    }
    if (!this.ring.value) return { ready: false, reason: `no ring at ${this.paths.ring} yet` };
    return { ready: true, reason: 'ok' };
  }

  /** The malformed records in ZooKeeper whose last good value the gate still uses. */
  problems(): RecordProblem[] {
    const extra = (this.options.watches ?? []).flatMap((watch) => watch.problems());
    return [...this.routingProblems(), ...this.migration.problems(), ...this.progress.problems(), ...extra];
  }

  /** The migration and its progress records as last read; the same object until one of them changes. */
  migrationState(): MigrationRecords {
    return this.migrationRecords;
  }

  /** The session the watches read on, for the admin's writes. */
  zookeeper(): ZkClient {
    if (!this.session || !this.connected) throw unavailable('this gate is not connected to ZooKeeper');
    return this.session;
  }

  private routingProblems(): RecordProblem[] {
    return [...this.ring.problems(), ...this.partitions.problems()];
  }

  /** Connects (retrying until it succeeds or `stop` is called; a NO_AUTH refusal rejects) and loads everything once; one run at a time. */
  async start(): Promise<void> {
    if (this.starting) return;
    this.starting = true;
    try {
      for (let attempt = 0; !this.stopping.signal.aborted; attempt++) {
        try {
          const session = await this.openSession();
          if (session && session === this.session) return;
          // That session ended while loading: open another.
        } catch (error) {
          // Credentials do not come back by waiting: the owner gives up instead of retrying forever.
          if (error instanceof ZkError && error.code === 'NO_AUTH') throw error;
          this.options.logger.warn({ err: error, attempt }, 'could not open a ZooKeeper session; retrying');
        }
        await this.pause(attempt);
      }
    } finally {
      this.starting = false;
    }
  }

  /** Closes the session: our gate node disappears at once. */
  stop(): void {
    this.stopping.abort();
    this.connected = false;
    for (const watch of this.allWatches()) watch.stop();
    this.session?.close();
  }

  /** A session with our gate node and every watch loaded on it; undefined once stopped. */
  private async openSession(): Promise<ZkClient | undefined> {
    const connect = this.options.connect ?? ((connectString, options) => ZkSession.connect(connectString, options));
    const session = await connect(this.options.connectString, { sessionTimeoutMs: this.options.sessionTimeoutMs, digest: this.options.zkDigest });
    if (this.stopping.signal.aborted) {
      session.close();
      return undefined;
    }
    // Current from the start, so that its expiry at any point is seen (and `start` opens another).
    this.session = session;
    session.on('expired', () => this.onExpired(session));
    session.on('disconnected', () => this.setConnected(session, false));
    session.on('connected', () => this.setConnected(session, true));
    try {
      await session.mkdirp(this.paths.gates);
      const openRoot = await openRootWarning(session, this.paths.root, this.options.zkDigest);
      if (openRoot !== undefined) this.options.logger.warn(openRoot);
      const gate = await session.create(this.paths.gatePrefix, encodeRecord({ url: this.options.gateUrl }), 'ephemeral-sequential');
      this.options.logger.info({ gate }, 'connected to ZooKeeper');
    } catch (error) {
      // Without our gate node this session is of no use; the caller opens another.
      if (this.session === session) this.session = undefined;
      session.close();
      throw error;
    }
    if (this.session !== session) return session;
    this.connected = true;
    await Promise.all(this.allWatches().map((watch) => watch.attach(session)));
    if (this.session === session) this.loaded = true;
    return session;
  }

  private allWatches(): Watch[] {
    return [this.ring, this.partitions, this.migration, this.progress, ...(this.options.watches ?? [])];
  }

  private setConnected(session: ZkClient, connected: boolean): void {
    if (session !== this.session) return;
    this.connected = connected;
    this.options.logger.info({ connected }, connected ? 'ZooKeeper connection back' : 'ZooKeeper connection lost');
  }

  private onExpired(session: ZkClient): void {
    if (session !== this.session || this.stopping.signal.aborted) return;
    this.options.logger.warn('ZooKeeper session expired; opening a new one');
    this.session = undefined;
    this.connected = false;
    session.close();
    this.start().catch((error: unknown) => this.options.logger.error({ err: error }, 'could not reopen the session'));
  }

  private pause(attempt: number): Promise<void> {
    const ms = Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.min(attempt, 5));
    return delay(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  private publish(): void {
    const partitions = new Map<string, PartitionRecords>();
    for (const [name, watch] of this.partitions.children) partitions.set(name, watch.records());
    const ring = this.ring.value;
    this.options.onSnapshot(ring ? { ring, partitions } : { partitions });
  }
}
