import { KvError, notLeader, preconditionFailed, timeout, unavailable } from '@kvstore/topology';
import type { Clock } from '../clock';
import type { LogEntry, Operation } from './entry';
import type { ReplicationLog } from './log';
import { compactionPoint, logIsOverBounds } from './compaction';
import { Replicator } from './replicator';
import type { PeerTransport } from './transport';
import { DeposedError, type IsrChange, type Member, type ReplicationDeps, type ReplicationOptions } from './types';
import { checkPrecondition, type Precondition, type VersionView } from './precondition';

export interface LeadershipDeps extends ReplicationDeps {
  epoch: number;
  isr: readonly string[];
  /** Called once when this leadership ends because a newer epoch exists. */
  onDeposed(epoch: number, reason: string): void;
}

export type Proposal =
  | { type: 'put'; key: string; value: Buffer; ttlSeconds: number | undefined; precondition: Precondition }
  | { type: 'delete'; key: string; precondition: Precondition };

export type WriteResult = { version: number; deleted?: boolean };

interface PendingWrite {
  result: WriteResult;
  resolve(result: WriteResult): void;
  reject(error: KvError): void;
  timer: unknown;
}

interface PendingRead {
  round: number;
  commitTarget: number;
  resolve(): void;
  reject(error: KvError): void;
  timer: unknown;
}

/**
 * One term as leader, at one epoch. It orders writes into the log, ships
 * them through a Replicator per follower, commits an entry once every
 * member of the in-sync set has it, and confirms leadership for strong
 * reads with one batched round to the in-sync set (etcd's ReadIndex).
 *
 * The in-sync set is changed only through ZooKeeper, in an order that keeps
 * acknowledged writes safe: a follower is required locally *before* it is
 * added in ZooKeeper, and stays required until its removal is stored there.
 */
export class Leadership {
  readonly self: Member;
  readonly epoch: number;
  readonly log: ReplicationLog;
  readonly clock: Clock;
  readonly transport: PeerTransport;
  readonly options: ReplicationOptions;
  active = true;
  commitSeq: number;
  /** Reads wait for this: the entry that commits the tail inherited from older epochs. */
  readonly noopSeq: number;
  requestedRound = 0;

  private isr: Set<string>;
  private readonly adding = new Set<string>();
  private readonly removing = new Set<string>();
  private isrChanges: Promise<void> = Promise.resolve();
  private readonly replicators = new Map<string, Replicator>();
  private readonly writes = new Map<number, PendingWrite>();
  private readonly overlay = new Map<string, VersionView>();
  private reads: PendingRead[] = [];

  constructor(private readonly deps: LeadershipDeps) {
    this.self = deps.self;
    this.epoch = deps.epoch;
    this.log = deps.log;
    this.clock = deps.clock;
    this.transport = deps.transport;
    this.options = deps.options;
    this.isr = new Set([...deps.isr, deps.self.id]);
    this.commitSeq = deps.store.appliedSeq;
    this.noopSeq = this.log.lastSeq + 1;
    this.log.append([{ seq: this.noopSeq, epoch: this.epoch, op: { type: 'noop' } }]);
    this.flushLog();
  }

  get inSyncSet(): string[] {
    return [...this.isr].sort();
  }

  followerProgress(): Map<string, number> {
    return new Map([...this.replicators].map(([id, replicator]) => [id, replicator.matchSeq]));
  }

  /** The partition's live members from ZooKeeper: start and stop replicators, drop departed ones from the in-sync set. */
  setMembers(members: readonly Member[]): void {
    if (!this.active) return;
    const live = new Map(members.filter((m) => m.id !== this.self.id).map((m) => [m.id, m]));
    for (const [id, replicator] of this.replicators) {
      const member = live.get(id);
      if (member?.url === replicator.member.url && member.incarnation === replicator.member.incarnation) continue;
      replicator.stop();
      this.replicators.delete(id);
    }
    for (const [id, member] of live) if (!this.replicators.has(id)) this.replicators.set(id, new Replicator(member, this));
    // `adding` too: an addition being stored for a follower that has just left must be undone after it.
    for (const id of new Set([...this.isr, ...this.adding])) {
      if (id !== this.self.id && !live.has(id)) this.removeFromIsr(id, 'its ZooKeeper session ended');
    }
    this.advanceCommit();
  }

  /** `/state` changed in ZooKeeper (e.g. a restarted follower resigned from the in-sync set). */
  observeIsr(isr: readonly string[]): void {
    this.isr = new Set([...isr, this.self.id]);
    this.advanceCommit();
  }

  async propose(proposal: Proposal): Promise<WriteResult> {
    if (!this.active) throw notLeader(undefined);
    const failure = this.deps.store.failure;
    if (failure) throw unavailable(`storage failed, writes are refused: ${failure.message}`, failure);
    const now = this.clock.now();
    const current = this.versionOf(proposal.key, now);
    const failed = checkPrecondition(proposal.precondition, current);
    if (failed) {
      // The answer rests on entries that may not be committed yet: confirm them first.
      await this.readBarrier(this.log.lastSeq);
      throw preconditionFailed(failed);
    }
    if (this.isr.size < this.options.minInsync) {
      throw unavailable(`only ${this.isr.size} replica(s) in sync; --min-insync is ${this.options.minInsync}`);
    }
    const seq = this.log.lastSeq + 1;
    const op: Operation =
      proposal.type === 'put'
        ? {
            type: 'put',
            key: proposal.key,
            value: proposal.value,
            expiresAt: proposal.ttlSeconds === undefined ? null : now + proposal.ttlSeconds * 1000,
          }
        : { type: 'delete', key: proposal.key };
    this.log.append([{ seq, epoch: this.epoch, op }]);
    const present = op.type === 'put';
    this.overlay.set(proposal.key, { present, version: seq, expiresAt: present ? op.expiresAt : null });
    const result: WriteResult = present ? { version: seq } : { version: seq, deleted: current.present };
    const promise = new Promise<WriteResult>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.writes.delete(seq);
        reject(timeout(`write ${seq} was not confirmed by the in-sync replicas within ${this.options.writeTimeoutMs} ms; its outcome is unknown`));
      }, this.options.writeTimeoutMs);
      this.writes.set(seq, { result, resolve, reject, timer });
    });
    this.wakeReplicators();
    this.flushLog();
    return promise;
  }

  /** Resolves once this replica is confirmed leader and has applied at least `minCommitSeq`. */
  readBarrier(minCommitSeq: number): Promise<void> {
    if (!this.active) return Promise.reject(notLeader(undefined));
    const commitTarget = Math.max(minCommitSeq, this.noopSeq);
    if (this.requiredFollowers().length === 0 && this.commitSeq >= commitTarget) return Promise.resolve();
    const round = ++this.requestedRound;
    const promise = new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.reads = this.reads.filter((read) => read.timer !== timer);
        reject(unavailable(`could not confirm leadership within ${this.options.writeTimeoutMs} ms`));
      }, this.options.writeTimeoutMs);
      this.reads.push({ round, commitTarget, resolve, reject, timer });
    });
    this.wakeReplicators();
    return promise;
  }

  onFollowerProgress(replicator: Replicator): void {
    const { id } = replicator.member;
    if (!this.isr.has(id) && !this.adding.has(id) && replicator.matchSeq >= this.commitSeq) this.addToIsr(replicator.member);
    this.advanceCommit();
    this.checkReads();
  }

  onFollowerUnreachable(replicator: Replicator, error: unknown): void {
    const { id } = replicator.member;
    const needed = replicator.matchSeq < this.log.lastSeq || replicator.ackedRound < this.requestedRound;
    if (needed && (this.isr.has(id) || this.adding.has(id))) {
      this.removeFromIsr(id, `did not answer: ${(error as Error).message}`);
    }
  }

  onStaleEpoch(epoch: number, from: string): void {
    this.deps.onDeposed(epoch, `follower ${from} knows epoch ${epoch}`);
  }

  /** Ends this term: every waiting write's outcome is unknown, every waiting read is refused. */
  stop(leaderUrl: string | undefined): void {
    if (!this.active) return;
    this.active = false;
    for (const replicator of this.replicators.values()) replicator.stop();
    this.replicators.clear();
    for (const write of this.writes.values()) {
      this.clock.clearTimeout(write.timer);
      write.reject(timeout('leadership was lost before the write was confirmed; its outcome is unknown'));
    }
    this.writes.clear();
    for (const read of this.reads) {
      this.clock.clearTimeout(read.timer);
      read.reject(notLeader(leaderUrl));
    }
    this.reads = [];
    this.overlay.clear();
  }

  private versionOf(key: string, now: number): VersionView {
    const pending = this.overlay.get(key);
    if (pending) {
      const live = pending.present && (pending.expiresAt === null || pending.expiresAt > now);
      return { ...pending, present: live };
    }
    const stored = this.deps.store.get(key, now);
    return stored ? { present: true, version: stored.version, expiresAt: stored.expiresAt } : { present: false, version: 0, expiresAt: null };
  }

  private requiredFollowers(): string[] {
    if (this.options.mode === 'async') return [];
    return [...new Set([...this.isr, ...this.adding])].filter((id) => id !== this.self.id);
  }

  /** The leader's own copy counts once it is durable; concurrent writes share one flush. */
  private flushLog(): void {
    this.log.flush().then(
      () => this.advanceCommit(),
      (error: unknown) => this.deps.logger.error({ err: error }, 'the log could not be made durable'),
    );
  }

  private advanceCommit(): void {
    if (!this.active) return;
    let commit = this.log.durableSeq;
    for (const id of this.requiredFollowers()) commit = Math.min(commit, this.replicators.get(id)?.matchSeq ?? 0);
    if (commit <= this.commitSeq) return;
    for (let seq = this.commitSeq + 1; seq <= commit; seq++) this.applyCommitted(this.log.entryAt(seq)!);
    this.commitSeq = commit;
    this.compactLog();
    this.wakeReplicators();
    this.checkReads();
  }

  private applyCommitted(entry: LogEntry): void {
    this.deps.store.apply(entry);
    if (entry.op.type !== 'noop' && this.overlay.get(entry.op.key)?.version === entry.seq) this.overlay.delete(entry.op.key);
    const write = this.writes.get(entry.seq);
    if (!write) return;
    this.writes.delete(entry.seq);
    this.clock.clearTimeout(write.timer);
    if (this.isr.size < this.options.minInsync) {
      write.reject(timeout(`write ${entry.seq} reached fewer than --min-insync ${this.options.minInsync} replicas; its outcome is unknown`));
    } else {
      write.resolve(write.result);
    }
  }

  private checkReads(): void {
    if (this.reads.length === 0) return;
    const required = this.requiredFollowers().map((id) => this.replicators.get(id)?.ackedRound ?? 0);
    const confirmedRound = Math.min(Infinity, ...required);
    this.reads = this.reads.filter((read) => {
      if (read.round > confirmedRound || read.commitTarget > this.commitSeq) return true;
      this.clock.clearTimeout(read.timer);
      read.resolve();
      return false;
    });
  }

  /** Keeps the log bounded: committed entries every follower has are folded away; far-behind followers get a snapshot. */
  private compactLog(): void {
    if (!logIsOverBounds(this.log, this.commitSeq, this.options)) return;
    const slowest = Math.min(this.commitSeq, ...[...this.replicators.values()].map((r) => r.matchSeq));
    this.log.compactTo(Math.max(slowest, compactionPoint(this.log, this.commitSeq, this.options)));
  }

  private wakeReplicators(): void {
    for (const replicator of this.replicators.values()) replicator.wake();
  }

  private addToIsr(member: Member): void {
    const { id } = member;
    this.adding.add(id);
    this.changeIsr({ add: member }, () => this.isr.add(id), () => this.adding.delete(id));
  }

  private removeFromIsr(id: string, reason: string): void {
    if (this.removing.has(id)) return;
    this.removing.add(id);
    this.deps.logger.warn({ follower: id, reason }, 'removing follower from the in-sync set');
    this.changeIsr({ remove: id }, () => {
      this.isr.delete(id);
      this.adding.delete(id);
    }, () => this.removing.delete(id));
  }

  /** In-sync set changes run one at a time, each a compare-and-set on `/state`. */
  private changeIsr(change: IsrChange, onStored: () => void, always: () => void): void {
    this.isrChanges = this.isrChanges.then(async () => {
      if (!this.active) return always();
      try {
        const stored = await this.deps.coordination.updateIsr(this.epoch, change);
        if (this.active) {
          onStored();
          this.isr = new Set([...stored, this.self.id]);
        }
      } catch (error) {
        if (error instanceof DeposedError) this.deps.onDeposed(this.epoch, error.message);
        else this.deps.logger.error({ err: error, change }, 'could not change the in-sync set');
      } finally {
        always();
      }
      if (this.active) {
        this.advanceCommit();
        this.checkReads();
      }
    });
  }
}
