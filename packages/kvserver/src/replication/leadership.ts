import { KvError, conflict, notFound, notLeader, preconditionFailed, slotOf, timeout, unavailable } from '@kvstore/protocol';
import type { Clock } from '../clock';
import { isLive, type StoredValue } from './kv-store';
import { entryBytes, type KeyOperation, type LogEntry, type Operation, type SlotOperation } from './entry';
import type { ReplicationLog } from './log';
import { compactionPoint, logIsOverBounds } from './compaction';
import { Replicator } from './replicator';
import type { PeerTransport } from './transport';
import { InSyncSet } from './in-sync-set';
import { DeposedError, type Member, type ReplicationDeps, type ReplicationOptions } from './types';
import { checkPrecondition, type Precondition, type VersionView } from './precondition';
import { ProposedSlots } from './proposed-slots';

/** Values the leader expires per look: a backlog of expiries drains over a few intervals instead of one long turn. */
const EXPIRIES_PER_INTERVAL = 1000;

/**
 * The share of a follower's promise (readLeaseMs) the leader relies on:
 * the rest covers two clocks that run at slightly different rates (NTP
 * slews them by at most 0.05%; this allows 10%).
 */
const LEASE_CLOCK_MARGIN = 0.9;

export interface LeadershipDeps extends ReplicationDeps {
  epoch: number;
  isr: readonly string[];
  /** The incarnation `/state` records for each in-sync member (see StateRecord.incarnations). */
  incarnations: Readonly<Record<string, string>>;
  /** Replicas taken out for maintenance (StateRecord.excluded). */
  excluded: readonly string[];
  /** Since when this replica has been cut off from ZooKeeper; undefined while connected. */
  zooKeeperDisconnectedAt(): number | undefined;
  /** Until when (monotonic) this replica promised its last leader not to start a term: nothing is decided before it. */
  promisedUntil: number;
  /** Called once when this leadership ends because a newer epoch exists. */
  onDeposed(epoch: number, reason: string): void;
  /** Called once when this leadership ends by a planned handover to `target`. */
  onHandedOver(target: Member): void;
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

/** Something a planned transfer waits for, looked at again whenever replication makes progress. */
interface ProgressWait {
  ready(): boolean;
  resolve(ready: boolean): void;
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
 * Nothing is decided on the state before the term's first entry (the noop)
 * is committed and applied: until then the tail inherited from older epochs
 * may be missing from the state, and a compare-and-set or a read would be
 * judged against the past. Nor before this replica's promise to the last
 * leader has run out: that leader may still answer strong reads on its
 * lease (readLeaseMs), which rests on this replica's word.
 *
 * The in-sync set (InSyncSet) changes only through ZooKeeper.
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
  /** The entry that commits the tail inherited from older epochs: nothing is decided before it is applied. */
  readonly noopSeq: number;
  requestedRound = 0;
  /** Slot ownership as this leader's log makes it (fences, imports), committed or not. */
  readonly slots: ProposedSlots;

  private readonly isr: InSyncSet;
  private readonly replicators = new Map<string, Replicator>();
  private readonly writes = new Map<number, PendingWrite>();
  private readonly overlay = new Map<string, VersionView>();
  private reads: PendingRead[] = [];
  private waitingForTerm: (() => void)[] = [];
  private progressWaits: ProgressWait[] = [];
  /** Set while a planned transfer drains: new writes wait on it, then find this term ended (or go on if the transfer failed). */
  private held: Promise<void> | undefined;
  private transferring = false;
  /** Bytes of this term's entries not yet committed (the inherited tail is bounded by the last term). */
  private uncommittedBytes = 0;
  private expiryTimer: unknown;
  /** A flush of the log is under way (flushLog). */
  private flushing = false;
  /** Wakes the term's waiters when this replica's promise to the last leader runs out. */
  private promiseTimer: unknown;
  /** The read round asked for to renew the lease (0: none yet). */
  private renewalRound = 0;
  /** Set for good before a planned handover is written: the target starts its term without waiting out a promise. */
  private leaseGivenUp = false;

  constructor(private readonly deps: LeadershipDeps) {
    this.self = deps.self;
    this.epoch = deps.epoch;
    this.log = deps.log;
    this.clock = deps.clock;
    this.transport = deps.transport;
    this.options = deps.options;
    this.isr = new InSyncSet({
      ...deps,
      onChanged: () => {
        // A follower that caught up while the change was being stored (a restarted one, say) may join now.
        for (const replicator of this.replicators.values()) this.considerAdding(replicator);
        this.advanceCommit();
      },
    });
    this.commitSeq = deps.store.appliedSeq;
    this.slots = new ProposedSlots(deps.store.slots, this.unappliedOperations());
    this.noopSeq = this.log.lastSeq + 1;
    this.log.append([{ seq: this.noopSeq, epoch: this.epoch, op: { type: 'noop' } }]);
    this.flushLog();
    this.scheduleExpiry();
  }

  get inSyncSet(): string[] {
    return this.isr.sorted;
  }

  followerProgress(): Map<string, number> {
    return new Map([...this.replicators].map(([id, replicator]) => [id, replicator.matchSeq]));
  }

  /** How far behind each follower is: entries it lacks, and for how long it has not held the whole log (0 while it does). */
  followerLag(): Array<{ id: string; entries: number; seconds: number }> {
    const now = this.clock.now();
    return [...this.replicators].map(([id, replicator]) => {
      const entries = Math.max(0, this.log.lastSeq - replicator.matchSeq);
      return { id, entries, seconds: entries === 0 ? 0 : Math.max(0, now - replicator.heldAllAt) / 1000 };
    });
  }

  /** The partition's live members from ZooKeeper: start and stop replicators, drop departed or restarted ones from the in-sync set. */
  setMembers(members: readonly Member[]): void {
    if (!this.active) return;
    const live = new Map(members.filter((m) => m.id !== this.self.id).map((m) => [m.id, m]));
    const restarted = new Set<string>();
    for (const [id, replicator] of this.replicators) {
      const member = live.get(id);
      if (member?.url === replicator.member.url && member.incarnation === replicator.member.incarnation) continue;
      if (member && member.incarnation !== replicator.member.incarnation) restarted.add(id);
      replicator.stop();
      this.replicators.delete(id);
    }
    for (const [id, member] of live) if (!this.replicators.has(id)) this.replicators.set(id, new Replicator(member, this));
    // Those being added too: an addition being stored for a follower that has just left must be undone after it.
    for (const id of this.isr.followers()) {
      const member = live.get(id);
      if (!member) this.isr.remove(id, 'its ZooKeeper session ended');
      else if (restarted.has(id) || this.isr.hasRestarted(member)) this.isr.remove(id, 'it restarted, and must show again that it holds every committed entry');
    }
    this.advanceCommit();
  }

  /** `/state` changed in ZooKeeper (e.g. a restarted follower resigned from the in-sync set, an operator restored a member). */
  observeIsr(isr: readonly string[], excluded: readonly string[]): void {
    this.isr.observe(isr, excluded);
    for (const replicator of this.replicators.values()) this.considerAdding(replicator);
    this.advanceCommit();
  }

  async propose(proposal: Proposal): Promise<WriteResult> {
    if (this.held) await this.held;
    await this.termReady();
    this.checkCanAcknowledge();
    this.checkSlotServed(proposal.key);
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
    this.checkBacklog();
    const op: Operation =
      proposal.type === 'put'
        ? {
            type: 'put',
            key: proposal.key,
            value: proposal.value,
            expiresAt: proposal.ttlSeconds === undefined ? null : now + proposal.ttlSeconds * 1000,
          }
        : { type: 'delete', key: proposal.key };
    const seq = this.appendOwn(op);
    const version = seq + this.slots.versionOffset;
    const result: WriteResult = op.type === 'put' ? { version } : { version, deleted: current.present };
    const promise = this.awaitCommit(seq, result);
    this.wakeReplicators();
    this.flushLog();
    return promise;
  }

  /**
   * A linearizable read: leadership confirmed, and the value as committed.
   * A value whose TTL has run out by this leader's clock is expired through
   * the log before the read answers that it is absent, so no later leader,
   * whatever its clock says, can show it again.
   */
  async read(key: string): Promise<StoredValue | undefined> {
    if (this.leaseHolds()) {
      // Checked in the same turn as the state is read: no new leader can have decided anything yet.
      this.checkCanAcknowledge();
      this.checkSlotServed(key);
      const stored = this.deps.store.get(key);
      if (!stored || isLive(stored, this.clock.now())) {
        this.deps.observer?.strongRead('lease');
        return stored;
      }
    }
    this.deps.observer?.strongRead('round');
    for (;;) {
      // In async mode a write is acknowledged before it is committed: the read must wait for it too.
      await this.readBarrier(this.options.mode === 'async' ? this.log.lastSeq : this.commitSeq);
      // Judged after the barrier: a fence appended while it waited may already have let the new owner write.
      this.checkSlotServed(key);
      const stored = this.deps.store.get(key);
      if (!stored || isLive(stored, this.clock.now())) return stored;
      // A write (or expiry) of the key is already in the log after the expired value: it decides; read again once it is committed.
      if (this.overlay.has(key)) {
        await this.readBarrier(this.log.lastSeq);
        continue;
      }
      const seq = this.appendOwn({ type: 'expire', key, version: stored.version });
      this.wakeReplicators();
      this.flushLog();
      // Absent only once the expiry is committed: held by every in-sync replica, whoever leads next.
      await this.readBarrier(seq);
      return undefined;
    }
  }

  /**
   * Appends a resharding operation and resolves with its seq once it is
   * committed and applied on this leader (and held by every in-sync replica).
   */
  async confirm(op: SlotOperation): Promise<number> {
    if (this.held) await this.held;
    await this.termReady();
    this.checkCanAcknowledge();
    this.checkBacklog();
    const seq = this.appendEntry(op);
    this.wakeReplicators();
    this.flushLog();
    await this.readBarrier(seq);
    return seq;
  }

  /** Resolves once this replica is confirmed leader and every in-sync replica holds at least `minCommitSeq`. */
  async readBarrier(minCommitSeq: number): Promise<void> {
    await this.termReady();
    this.checkCanAcknowledge();
    const commitTarget = Math.max(minCommitSeq, this.noopSeq);
    if (this.isr.followers().length === 0 && this.commitSeq >= commitTarget) return;
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

  /**
   * Whether a strong read may skip its round (sync mode): every in-sync
   * follower acknowledged an append sent less than the lease ago, and so
   * has promised not to start a term before the lease runs out; whoever
   * ZooKeeper elects next is one of them. Past half the lease, a round is
   * asked for to renew it (appends under writes renew it anyway).
   */
  private leaseHolds(): boolean {
    const { mode, readLeaseMs } = this.options;
    if (mode !== 'sync' || readLeaseMs === 0 || this.leaseGivenUp || !this.termStarted()) return false;
    const since = Math.min(...this.isr.followers().map((id) => this.replicators.get(id)?.promisedFrom ?? -Infinity));
    const age = this.clock.monotonic() - since;
    const lease = readLeaseMs * LEASE_CLOCK_MARGIN;
    if (age >= lease) return false;
    if (age >= lease / 2 && this.renewalRound <= this.confirmedRound()) {
      this.renewalRound = ++this.requestedRound;
      this.wakeReplicators();
    }
    return true;
  }

  /** The newest read round every in-sync follower has answered. */
  private confirmedRound(): number {
    return Math.min(Infinity, ...this.isr.followers().map((id) => this.replicators.get(id)?.ackedRound ?? 0));
  }

  onFollowerProgress(replicator: Replicator): void {
    this.considerAdding(replicator);
    this.advanceCommit();
    this.checkReads();
    this.checkProgressWaits();
  }

  /**
   * A planned transfer of the lead to `to` (or the most caught-up in-sync
   * follower). While writes go on, waits until the target is in the
   * in-sync set and holds every committed entry; then holds new writes
   * back, waits until every entry in the log is committed and the target
   * has it all, and hands over through ZooKeeper (IsrCoordination.handOver).
   * The held writes then find this term ended and are refused as not
   * applied (NOT_LEADER), which a gate retries at the new leader. If the
   * target does not catch up within `timeoutMs` (the last step gets at most
   * half the write timeout), this replica goes on leading and the held
   * writes go on; the transfer fails with TIMEOUT.
   */
  async transferTo(to: string | undefined, timeoutMs: number): Promise<Member> {
    await this.termReady();
    this.checkCanAcknowledge();
    if (this.transferring) throw conflict('a leader transfer is already under way');
    const target = this.transferTarget(to);
    this.transferring = true;
    try {
      const deadline = this.clock.now() + timeoutMs;
      const holds = (seq: number): boolean => {
        const replicator = this.replicators.get(target.id);
        return replicator?.member === target && replicator.reachable && this.isr.isStored(target.id) && replicator.matchSeq >= seq;
      };
      if (!(await this.waitForProgress(() => holds(this.commitSeq), deadline - this.clock.now()))) throw this.transferFailed(target, timeoutMs);
      let release = (): void => {};
      this.held = new Promise((resolve) => (release = resolve));
      try {
        const drainMs = Math.min(this.options.writeTimeoutMs / 2, deadline - this.clock.now());
        const drained = (): boolean => this.commitSeq === this.log.lastSeq && holds(this.log.lastSeq);
        if (!(await this.waitForProgress(drained, drainMs))) throw this.transferFailed(target, timeoutMs);
        // Before the write, and for the rest of the term: a handover whose answer was lost may have been stored.
        this.leaseGivenUp = true;
        await this.handOver(target);
      } finally {
        this.held = undefined;
        release();
      }
      return target;
    } finally {
      this.transferring = false;
    }
  }

  /**
   * Takes follower `id` out of the in-sync set, and keeps it out, for
   * maintenance; refused for the leader itself and when the set would drop
   * below --min-insync. Resolves to the in-sync set once ZooKeeper has it.
   */
  async removeMember(id: string): Promise<string[]> {
    await this.termReady();
    this.checkCanAcknowledge();
    if (id === this.self.id) throw conflict(`${id} is the leader: move the lead first (kvctl cluster leader-transfer)`);
    if (!this.replicators.has(id) && !this.isr.includes(id) && !this.isr.isExcluded(id)) throw notFound(`${id} is not a member of this partition`);
    if (this.isr.isExcluded(id)) return this.inSyncSet;
    const remaining = this.isr.size - (this.isr.includes(id) ? 1 : 0);
    if (remaining < this.options.minInsync) {
      throw conflict(`removing ${id} would leave ${remaining} replica(s) in sync, below --min-insync ${this.options.minInsync}`);
    }
    if (!(await this.isr.exclude(id))) throw unavailable(`could not store the removal of ${id} in ZooKeeper; try again`);
    this.advanceCommit();
    return this.inSyncSet;
  }

  onFollowerUnreachable(replicator: Replicator, error: unknown): void {
    const { id } = replicator.member;
    const needed = replicator.matchSeq < this.log.lastSeq || replicator.ackedRound < this.requestedRound;
    if (needed && this.isr.includes(id)) this.isr.remove(id, `did not answer: ${(error as Error).message}`);
  }

  onStaleEpoch(epoch: number, from: string): void {
    this.deps.onDeposed(epoch, `follower ${from} knows epoch ${epoch}`);
  }

  /** Ends this term: every waiting write's outcome is unknown, every waiting read is refused. */
  stop(leaderUrl: string | undefined): void {
    if (!this.active) return;
    this.active = false;
    this.isr.stop();
    this.clock.clearTimeout(this.expiryTimer);
    this.clock.clearTimeout(this.promiseTimer);
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
    this.checkProgressWaits();
    for (const wake of this.waitingForTerm) wake();
    this.waitingForTerm = [];
  }

  /** The noop is applied and this replica's promise to the last leader has run out. */
  private termStarted(): boolean {
    return this.commitSeq >= this.noopSeq && this.clock.monotonic() >= this.deps.promisedUntil;
  }

  /** One timer at a time for the end of the promise (set again by wakeTerm if it fired a little early). */
  private armPromiseTimer(): void {
    const left = this.deps.promisedUntil - this.clock.monotonic();
    if (this.promiseTimer !== undefined || left <= 0) return;
    this.promiseTimer = this.clock.setTimeout(() => {
      this.promiseTimer = undefined;
      this.wakeTerm();
    }, Math.ceil(left));
  }

  /** Wakes whoever waits for the term once it has started; until the promise runs out, keeps its timer set. */
  private wakeTerm(): void {
    if (!this.active || this.waitingForTerm.length === 0) return;
    if (!this.termStarted()) return this.armPromiseTimer();
    for (const wake of this.waitingForTerm) wake();
    this.waitingForTerm = [];
  }

  /** Waits (bounded by the write timeout) until the term has started (termStarted); refused as not applied if it has not. */
  private termReady(): Promise<void> {
    if (!this.active) return Promise.reject(notLeader(undefined));
    if (this.termStarted()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.waitingForTerm = this.waitingForTerm.filter((wake) => wake !== onReady);
        reject(unavailable(`a new leader (epoch ${this.epoch}) could not commit its predecessors' writes within ${this.options.writeTimeoutMs} ms`));
      }, this.options.writeTimeoutMs);
      const onReady = (): void => {
        this.clock.clearTimeout(timer);
        if (this.active) resolve();
        else reject(notLeader(undefined));
      };
      this.waitingForTerm.push(onReady);
      this.armPromiseTimer();
    });
  }

  /** The target a transfer names, or the in-sync follower that holds the most. */
  private transferTarget(to: string | undefined): Member {
    if (to === this.self.id) throw conflict(`${to} already leads`);
    if (to !== undefined) {
      const replicator = this.replicators.get(to);
      if (!replicator) throw notFound(`${to} is not a live member of this partition`);
      if (this.isr.isExcluded(to)) throw conflict(`${to} was taken out of the in-sync set (remove-member): restore it first`);
      return replicator.member;
    }
    const candidates = [...this.replicators.values()]
      .filter((replicator) => replicator.reachable && this.isr.isStored(replicator.member.id))
      .sort((a, b) => b.matchSeq - a.matchSeq || (a.member.id < b.member.id ? -1 : 1));
    if (candidates.length === 0) throw conflict('no in-sync follower to hand the lead to');
    return candidates[0]!.member;
  }

  private transferFailed(target: Member, timeoutMs: number): KvError {
    if (!this.active) return unavailable(`this term ended during the transfer to ${target.id}`);
    const matchSeq = this.replicators.get(target.id)?.matchSeq ?? 0;
    return timeout(`${target.id} did not catch up within ${timeoutMs} ms (it holds ${matchSeq} of ${this.log.lastSeq}); ${this.self.id} goes on leading`);
  }

  /** Writes the handover; on success this term ends before any held write can go on. */
  private async handOver(target: Member): Promise<void> {
    try {
      await this.deps.coordination.handOver(this.epoch, target);
    } catch (error) {
      if (error instanceof DeposedError) {
        this.deps.onDeposed(this.epoch, error.message);
        throw notLeader(undefined);
      }
      throw unavailable(`could not hand the lead to ${target.id}: ${(error as Error).message}; ${this.self.id} goes on leading`);
    }
    this.deps.logger.info({ epoch: this.epoch, target: target.id, seq: this.log.lastSeq }, 'handed the lead over');
    // ZooKeeper's watch may have shown the handover first, and the replica moved on already.
    if (this.active) this.deps.onHandedOver(target);
  }

  /** Resolves true once `ready()` holds, false when `ms` pass first or the term ends. */
  private waitForProgress(ready: () => boolean, ms: number): Promise<boolean> {
    if (!this.active) return Promise.resolve(false);
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wait: ProgressWait = { ready, resolve, timer: undefined };
      wait.timer = this.clock.setTimeout(() => {
        this.progressWaits = this.progressWaits.filter((other) => other !== wait);
        resolve(false);
      }, Math.max(0, ms));
      this.progressWaits.push(wait);
    });
  }

  private checkProgressWaits(): void {
    if (this.progressWaits.length === 0) return;
    this.progressWaits = this.progressWaits.filter((wait) => {
      const ready = this.active && wait.ready();
      if (this.active && !ready) return true;
      this.clock.clearTimeout(wait.timer);
      wait.resolve(ready);
      return false;
    });
  }

  /** Refuses (as not applied) while acknowledging could be unsafe or dishonest. */
  private checkCanAcknowledge(): void {
    if (!this.active) throw notLeader(undefined);
    const disconnectedAt = this.deps.zooKeeperDisconnectedAt();
    if (disconnectedAt !== undefined && this.clock.now() - disconnectedAt >= this.options.zooKeeperLeaseMs) {
      throw unavailable(`cut off from ZooKeeper for ${this.clock.now() - disconnectedAt} ms; this leader may have been replaced`);
    }
  }

  /** A key whose slot is fenced in this leader's log belongs to another partition now (or will once its move ends). */
  private checkSlotServed(key: string): void {
    if (this.slots.fenced.size === 0) return;
    const slot = slotOf(key);
    if (this.slots.fenced.has(slot)) throw new KvError('WRONG_PARTITION', `slot ${slot} is moving to another partition`);
  }

  /** The operations in the log that the state does not hold yet (the tail a new leader inherits). */
  private *unappliedOperations(): Generator<Operation> {
    for (let seq = this.deps.store.appliedSeq + 1; seq <= this.log.lastSeq; seq++) yield this.log.entryAt(seq)!.op;
  }

  private checkBacklog(): void {
    const entries = this.log.lastSeq - this.commitSeq;
    if (entries >= this.options.maxUncommittedEntries || this.uncommittedBytes >= this.options.maxUncommittedBytes) {
      throw unavailable(`${entries} entries (${this.uncommittedBytes} bytes) wait to be committed; writes are refused until the in-sync replicas catch up`);
    }
  }

  /**
   * A key's version as the next write sees it. A value whose TTL has run out
   * by this leader's clock is expired through the log first, so the answer
   * (and every replica's state) agrees with the log whoever leads next.
   */
  private versionOf(key: string, now: number): VersionView {
    const current = this.overlay.get(key) ?? this.storedVersion(key);
    if (!current.present || current.expiresAt === null || current.expiresAt > now) return current;
    const seq = this.appendOwn({ type: 'expire', key, version: current.version });
    return { present: false, version: seq + this.slots.versionOffset, expiresAt: null };
  }

  private storedVersion(key: string): VersionView {
    const stored = this.deps.store.get(key);
    return stored ? { present: true, version: stored.version, expiresAt: stored.expiresAt } : { present: false, version: 0, expiresAt: null };
  }

  /** Appends one entry of this term and shows it to later writes of the same key; returns its seq. */
  private appendOwn(op: KeyOperation): number {
    const seq = this.appendEntry(op);
    const present = op.type === 'put';
    this.overlay.set(op.key, { present, version: seq + this.slots.versionOffset, expiresAt: present ? op.expiresAt : null });
    return seq;
  }

  private appendEntry(op: Exclude<Operation, { type: 'noop' }>): number {
    const entry: LogEntry = { seq: this.log.lastSeq + 1, epoch: this.epoch, op };
    this.log.append([entry]);
    this.uncommittedBytes += entryBytes(entry);
    this.slots.observe(op);
    return entry.seq;
  }

  private awaitCommit(seq: number, result: WriteResult): Promise<WriteResult> {
    return new Promise<WriteResult>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.writes.delete(seq);
        reject(timeout(`write ${seq} was not confirmed by the in-sync replicas within ${this.options.writeTimeoutMs} ms; its outcome is unknown`));
      }, this.options.writeTimeoutMs);
      this.writes.set(seq, { result, resolve, reject, timer });
    });
  }

  /** Every TTL that has run out by this leader's clock becomes an `expire` entry; followers apply it like any write. */
  private expireDue(): void {
    // While a transfer drains, the log must stop growing.
    if (!this.active || this.commitSeq < this.noopSeq || this.held) return;
    const due = this.deps.store.dueForExpiry(this.clock.now(), EXPIRIES_PER_INTERVAL);
    const keys = new Set<string>();
    for (const { key, version } of due) {
      // A write (or expiry) of the key already in the log decides it; a moving slot's keys expire at their new owner.
      if (this.overlay.has(key) || keys.has(key) || (this.slots.fenced.size > 0 && this.slots.fenced.has(slotOf(key)))) continue;
      keys.add(key);
      this.appendOwn({ type: 'expire', key, version });
    }
    this.deps.observer?.expirySweep(keys.size);
    if (keys.size === 0) return;
    this.wakeReplicators();
    this.flushLog();
  }

  private scheduleExpiry(): void {
    this.expiryTimer = this.clock.setTimeout(() => {
      this.expireDue();
      if (this.active) this.scheduleExpiry();
    }, this.options.expiryIntervalMs);
  }

  /** How far every in-sync replica, this one included, holds the log durably. */
  private replicatedSeq(): number {
    let seq = this.log.durableSeq;
    for (const id of this.isr.followers()) seq = Math.min(seq, this.replicators.get(id)?.matchSeq ?? 0);
    return seq;
  }

  /**
   * The leader's own copy counts once it is durable. One flush at a time:
   * appends made while it waits are looked at when it ends, so a group
   * commit costs one flush (and one advanceCommit), not one per write.
   */
  private flushLog(): void {
    if (this.flushing) return;
    this.flushing = true;
    this.log.flush().then(
      () => {
        this.flushing = false;
        this.advanceCommit();
        if (this.active && this.log.durableSeq < this.log.lastSeq) this.flushLog();
      },
      (error: unknown) => {
        this.flushing = false;
        this.deps.logger.error({ err: error }, 'the log could not be made durable');
      },
    );
  }

  /**
   * An entry is committed, and applied, once every in-sync replica holds it,
   * in both modes: the state never shows what a failover could take back. A
   * write is acknowledged when it is committed (sync), or as soon as the
   * leader's own copy is durable (async: it may be lost).
   */
  private advanceCommit(): void {
    if (!this.active) return;
    if (this.options.mode === 'async') {
      for (const seq of [...this.writes.keys()].filter((seq) => seq <= this.log.durableSeq)) this.acknowledge(seq);
    }
    const commit = this.replicatedSeq();
    if (commit > this.commitSeq) {
      for (let seq = this.commitSeq + 1; seq <= commit; seq++) this.applyCommitted(this.log.entryAt(seq)!);
      this.commitSeq = commit;
      this.wakeTerm();
      this.compactLog();
      this.wakeReplicators();
    }
    this.checkReads();
    this.checkProgressWaits();
  }

  private applyCommitted(entry: LogEntry): void {
    this.deps.store.apply(entry);
    if (entry.seq > this.noopSeq) this.uncommittedBytes -= entryBytes(entry);
    // The overlay shows a write until it is applied (its version: seq plus the offset, which a key's write does not change).
    if ('key' in entry.op && this.overlay.get(entry.op.key)?.version === entry.seq + this.deps.store.slots.versionOffset) this.overlay.delete(entry.op.key);
    this.acknowledge(entry.seq);
  }

  private acknowledge(seq: number): void {
    const write = this.writes.get(seq);
    if (!write) return;
    this.writes.delete(seq);
    this.clock.clearTimeout(write.timer);
    if (this.isr.size < this.options.minInsync) {
      write.reject(timeout(`write ${seq} reached fewer than --min-insync ${this.options.minInsync} replicas; its outcome is unknown`));
      return;
    }
    try {
      this.checkCanAcknowledge();
      write.resolve(write.result);
    } catch (error) {
      write.reject(timeout(`write ${seq} is committed but cannot be acknowledged: ${(error as Error).message}; its outcome is unknown`));
    }
  }

  /**
   * A read is answered once its round is confirmed by every in-sync
   * follower and they all hold what it reads: in async mode as well, so a
   * strong read never shows a value that a failover could take back.
   */
  private checkReads(): void {
    if (this.reads.length === 0) return;
    const confirmedRound = this.confirmedRound();
    const replicated = this.replicatedSeq();
    let refusal: KvError | undefined;
    try {
      this.checkCanAcknowledge();
    } catch (error) {
      refusal = error as KvError;
    }
    this.reads = this.reads.filter((read) => {
      if (!refusal && (read.round > confirmedRound || read.commitTarget > this.commitSeq || read.commitTarget > replicated)) return true;
      this.clock.clearTimeout(read.timer);
      if (refusal) read.reject(refusal);
      else read.resolve();
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

  /** A follower that holds every committed entry (this incarnation of it) joins the in-sync set. */
  private considerAdding(replicator: Replicator): void {
    if (replicator.reachable && replicator.matchSeq >= this.commitSeq) this.isr.add(replicator.member);
  }
}
