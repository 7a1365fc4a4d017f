import { KvError, notLeader, unavailable, type Consistency } from '@kvstore/protocol';
import { sleep } from '../clock';
import type { KvStore, StoredValue } from './kv-store';
import { compactionPoint, logIsOverBounds } from './compaction';
import { acceptAppend } from './follower-log';
import { Leadership, type Proposal, type WriteResult } from './leadership';
import type { AppendRequest, AppendResponse, InstallSnapshotRequest, SnapshotSource } from './messages';
import type { Member, ReplicationDeps } from './types';

export type ReplicaRole = 'follower' | 'leader' | 'stopped';

export interface ReplicaDeps extends ReplicationDeps {
  partition: string;
}

export interface ReplicaStatus {
  id: string;
  partition: string;
  role: ReplicaRole;
  epoch: number;
  leader: string | null;
  lastSeq: number;
  commitSeq: number;
  isr: string[] | null;
  keys: number;
}

/**
 * One replica of a partition: its role, epoch, log and state, and the one
 * place where the role changes (`becomeLeader`, `becomeFollower`,
 * `stepDown`, `stop`). The ZooKeeper driver decides *when*; this class
 * keeps every transition safe: a replica never goes back to an older
 * epoch, and a deposed leader fails whatever it had in flight.
 */
export class Replica {
  role: ReplicaRole = 'follower';
  epoch = 0;
  private leaderHint: Member | undefined;
  private leadership: Leadership | undefined;
  private members: Member[] = [];
  private installing = false;
  /** Raised by every snapshot install: an append that waited on the disk across one must not go on. */
  private installs = 0;
  /** The newest epoch ZooKeeper's `/state` has shown: appends from newer (unknown) epochs are refused. */
  private zooKeeperEpoch = 0;
  private zooKeeperDisconnectedAt: number | undefined;
  /**
   * Until when (monotonic) this replica has promised a leader not to start
   * a term of its own (ReplicationOptions.readLeaseMs). From the start as
   * well: before a restart it may have promised, and forgotten.
   */
  private promisedUntil: number;

  constructor(private readonly deps: ReplicaDeps) {
    this.promisedUntil = deps.clock.monotonic() + deps.options.readLeaseMs;
  }

  get id(): string {
    return this.deps.self.id;
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  get leaderUrl(): string | undefined {
    return this.isLeader ? this.deps.self.url : this.leaderHint?.url;
  }

  get lastSeq(): number {
    return this.deps.log.lastSeq;
  }

  /**
   * This replica won `epoch` in `/state` (by compare-and-set), with that
   * state's in-sync set; `handedOver`: by a planned transfer, whose leader
   * gave up its read lease before it handed over, so no promise holds.
   */
  becomeLeader(
    epoch: number,
    isr: readonly string[],
    incarnations: Readonly<Record<string, string>> = {},
    excluded: readonly string[] = [],
    handedOver = false,
  ): void {
    this.assertNotOlder(epoch);
    this.leadership?.stop(undefined);
    this.role = 'leader';
    this.advanceEpoch(epoch);
    this.zooKeeperEpoch = Math.max(this.zooKeeperEpoch, epoch);
    this.leaderHint = this.deps.self;
    this.leadership = new Leadership({
      ...this.deps,
      epoch,
      isr,
      incarnations,
      excluded,
      zooKeeperDisconnectedAt: () => this.zooKeeperDisconnectedAt,
      promisedUntil: handedOver ? -Infinity : this.promisedUntil,
      onDeposed: (newer, reason) => this.onDeposed(newer, reason),
      onHandedOver: (target) => this.onHandedOver(target),
    });
    this.leadership.setMembers(this.members);
    this.deps.logger.info({ epoch, isr, lastSeq: this.deps.log.lastSeq }, 'became leader');
  }

  /** ZooKeeper's `/state` names another leader at `epoch`. */
  becomeFollower(epoch: number, leader: Member | undefined): void {
    this.zooKeeperEpoch = Math.max(this.zooKeeperEpoch, epoch);
    this.follow(epoch, leader);
  }

  private follow(epoch: number, leader: Member | undefined): void {
    if (epoch < this.epoch || this.role === 'stopped') return;
    const wasLeader = this.role === 'leader';
    this.advanceEpoch(epoch);
    this.leaderHint = leader;
    if (wasLeader && leader?.id === this.id) return; // our own term, seen again from ZooKeeper
    this.endLeadership(leader?.url);
    this.role = 'follower';
    if (wasLeader) this.deps.logger.warn({ epoch, leader: leader?.id }, 'stepped down');
  }

  /** Stops leading at once without knowing who leads next (e.g. the ZooKeeper session expired). */
  stepDown(reason: string): void {
    if (this.role !== 'leader') return;
    this.deps.logger.warn({ epoch: this.epoch, reason }, 'stepping down');
    this.endLeadership(undefined);
    this.role = 'follower';
    this.leaderHint = undefined;
  }

  /**
   * Before a clean shutdown: wait (bounded) until another replica is in the
   * in-sync set, so that leadership can pass to one that has every write.
   */
  async handOver(timeoutMs: number): Promise<void> {
    const deadline = this.deps.clock.now() + timeoutMs;
    while (this.leadership?.active && this.members.length > 1 && this.leadership.inSyncSet.length < 2 && this.deps.clock.now() < deadline) {
      await sleep(this.deps.clock, 20);
    }
  }

  stop(): void {
    this.endLeadership(undefined);
    this.role = 'stopped';
  }

  /** Live members from ZooKeeper. */
  setMembers(members: readonly Member[]): void {
    this.members = [...members];
    this.leadership?.setMembers(members);
  }

  /**
   * The ZooKeeper session's connection came or went. A leader cut off from
   * ZooKeeper for longer than its lease stops acknowledging (see Leadership).
   */
  observeZooKeeper(connected: boolean): void {
    this.zooKeeperDisconnectedAt = connected ? undefined : (this.zooKeeperDisconnectedAt ?? this.deps.clock.now());
  }

  /** `/state` as ZooKeeper has it now. */
  observeState(state: { epoch: number; leader: string | null; isr: readonly string[]; excluded?: readonly string[] }): void {
    this.zooKeeperEpoch = Math.max(this.zooKeeperEpoch, state.epoch);
    if (state.epoch < this.epoch) return;
    if (this.role === 'leader' && state.epoch === this.epoch && state.leader === this.id) {
      this.leadership?.observeIsr(state.isr, state.excluded ?? []);
      return;
    }
    if (this.role === 'leader' || state.epoch > this.epoch) {
      const leader = state.leader === this.id ? undefined : this.members.find((member) => member.id === state.leader);
      this.becomeFollower(state.epoch, leader);
    }
  }

  async put(key: string, value: Buffer, ttlSeconds: number | undefined, precondition: Proposal['precondition']): Promise<WriteResult> {
    return this.requireLeadership().propose({ type: 'put', key, value, ttlSeconds, precondition });
  }

  async delete(key: string, precondition: Proposal['precondition']): Promise<WriteResult> {
    return this.requireLeadership().propose({ type: 'delete', key, precondition });
  }

  async read(key: string, consistency: Consistency): Promise<StoredValue | undefined> {
    if (consistency === 'strong') return this.requireLeadership().read(key);
    // Half a snapshot is no state this partition ever had.
    if (this.installing) throw unavailable('installing a snapshot from the leader; ask another replica');
    return this.deps.store.get(key);
  }

  async handleAppend(request: AppendRequest): Promise<AppendResponse> {
    if (request.epoch < this.epoch) return { ok: false, reason: 'stale-epoch', epoch: this.epoch };
    if (this.role === 'stopped') return { ok: false, reason: 'busy', epoch: this.epoch };
    if (request.epoch > this.zooKeeperEpoch) return { ok: false, reason: 'unknown-epoch', epoch: this.epoch };
    if (request.epoch === this.epoch && this.role === 'leader') {
      // Two leaders in one epoch cannot happen: epochs are won by compare-and-set.
      this.deps.logger.error({ epoch: this.epoch, from: request.leaderId }, 'another leader claims my epoch');
      return { ok: false, reason: 'stale-epoch', epoch: this.epoch };
    }
    this.follow(request.epoch, { id: request.leaderId, url: request.leaderUrl });
    const { log, store } = this.deps;
    if (this.installing) return { ok: false, reason: 'busy', epoch: this.epoch };
    const installs = this.installs;
    const outcome = acceptAppend(log, store.appliedSeq, request);
    // Acknowledge only what is on disk, and only to the epoch that sent it: a newer
    // leader may have rewritten this tail, or a snapshot replaced it, while we waited.
    await log.flush();
    if (this.epoch !== request.epoch || this.role !== 'follower' || this.installs !== installs) {
      return { ok: false, reason: 'busy', epoch: this.epoch };
    }
    for (let seq = store.appliedSeq + 1; seq <= outcome.commitTo; seq++) store.apply(log.entryAt(seq)!);
    if (logIsOverBounds(log, store.appliedSeq, this.deps.options)) log.compactTo(compactionPoint(log, store.appliedSeq, this.deps.options));
    // Counted from the answer, which is later than the leader's send, from which it counts its lease.
    if (outcome.response.ok) this.promisedUntil = Math.max(this.promisedUntil, this.deps.clock.monotonic() + this.deps.options.readLeaseMs);
    return outcome.response;
  }

  /**
   * The leader found this follower too far behind: pull its snapshot, chunk
   * by chunk, and restart the log there. Until the last chunk is in, this
   * replica holds nothing it can vouch for (an empty log), so an interrupted
   * install is simply started again.
   */
  async installSnapshot(request: InstallSnapshotRequest): Promise<AppendResponse> {
    if (request.epoch < this.epoch) return { ok: false, reason: 'stale-epoch', epoch: this.epoch };
    if (this.role === 'stopped' || this.installing) return { ok: false, reason: 'busy', epoch: this.epoch };
    if (request.epoch === this.epoch && this.role === 'leader') return { ok: false, reason: 'stale-epoch', epoch: this.epoch };
    if (request.epoch > this.zooKeeperEpoch) return { ok: false, reason: 'unknown-epoch', epoch: this.epoch };
    this.follow(request.epoch, { id: request.leaderId, url: request.leaderUrl });
    this.installing = true;
    this.installs++;
    const { store, log, transport, options, logger } = this.deps;
    try {
      const snapshot = await transport.fetchSnapshot(request.leaderUrl, request.epoch, options.writeTimeoutMs * 30);
      const current = (): boolean => this.epoch === request.epoch && this.role === 'follower';
      if (!current()) return { ok: false, reason: 'busy', epoch: this.epoch };
      // Marked as installing first: a crash from here on leaves a state recovery wipes.
      store.beginRestore();
      log.resetTo(0, 0);
      let records = 0;
      for await (const chunk of snapshot.chunks) {
        if (!current()) return { ok: false, reason: 'busy', epoch: this.epoch };
        store.restoreRecords(chunk);
        records += chunk.length;
      }
      store.finishRestore(snapshot.seq, snapshot.epoch, snapshot.slots);
      log.resetTo(snapshot.seq, snapshot.epoch);
      await log.flush();
      logger.info({ seq: snapshot.seq, records }, 'installed snapshot');
      this.deps.observer?.snapshotInstalled();
      return { ok: true, epoch: this.epoch, matchSeq: snapshot.seq };
    } finally {
      this.installing = false;
    }
  }

  /** Resolves once every write applied so far would be in a snapshot. */
  settled(): Promise<void> {
    return this.deps.store.settled();
  }

  /** A consistent view of the state for a follower that needs one; the caller closes it. */
  snapshotFor(epoch: number): SnapshotSource {
    if (!this.isLeader || epoch !== this.epoch) throw notLeader(this.leaderUrl);
    this.deps.observer?.snapshotServed();
    return this.deps.store.openSnapshot();
  }

  status(): ReplicaStatus {
    return {
      id: this.id,
      partition: this.deps.partition,
      role: this.role,
      epoch: this.epoch,
      leader: this.isLeader ? this.id : (this.leaderHint?.id ?? null),
      lastSeq: this.deps.log.lastSeq,
      commitSeq: this.leadership?.commitSeq ?? this.deps.store.appliedSeq,
      isr: this.leadership?.inSyncSet ?? null,
      keys: this.deps.store.size,
    };
  }

  /** The current term, for resharding (migration/): it fences, imports and purges through the log like any write. */
  get currentLeadership(): Leadership | undefined {
    return this.role === 'leader' && this.leadership?.active ? this.leadership : undefined;
  }

  /** The applied state (resharding reads slots' records and key counts from it). */
  get store(): KvStore {
    return this.deps.store;
  }

  requireLeadership(): Leadership {
    if (this.role !== 'leader' || !this.leadership?.active) throw notLeader(this.leaderHint?.url);
    return this.leadership;
  }

  /** A planned transfer (Leadership.transferTo) to `to`, or the most caught-up in-sync follower; resolves to whom the lead went. */
  async transferLeadership(to: string | undefined, timeoutMs: number): Promise<{ from: string; to: string; epoch: number }> {
    const leadership = this.requireLeadership();
    const target = await leadership.transferTo(to, timeoutMs);
    return { from: this.id, to: target.id, epoch: leadership.epoch };
  }

  /** Takes follower `id` out of the in-sync set for maintenance (Leadership.removeMember). */
  async removeMember(id: string): Promise<string[]> {
    return this.requireLeadership().removeMember(id);
  }

  /** The lead went to `target` by a planned transfer; its election follows. Requests wait for it, not for a hint. */
  private onHandedOver(target: Member): void {
    this.deps.logger.warn({ epoch: this.epoch, target: target.id }, 'stepped down for a planned transfer');
    this.endLeadership(undefined);
    this.role = 'follower';
    this.leaderHint = undefined;
  }

  private onDeposed(epoch: number, reason: string): void {
    this.deps.logger.warn({ epoch: this.epoch, newer: epoch, reason }, 'deposed');
    this.endLeadership(undefined);
    this.role = this.role === 'stopped' ? 'stopped' : 'follower';
    this.leaderHint = undefined;
    this.advanceEpoch(epoch);
  }

  private advanceEpoch(epoch: number): void {
    if (epoch <= this.epoch) return;
    this.epoch = epoch;
    this.deps.observer?.epochChanged(epoch);
  }

  private endLeadership(leaderUrl: string | undefined): void {
    this.leadership?.stop(leaderUrl);
    this.leadership = undefined;
  }

  private assertNotOlder(epoch: number): void {
    if (epoch <= this.epoch && this.role === 'leader') throw new KvError('INTERNAL', `cannot lead epoch ${epoch}: already at ${this.epoch}`);
    if (epoch < this.epoch) throw new KvError('INTERNAL', `cannot lead epoch ${epoch}: already at ${this.epoch}`);
  }
}
