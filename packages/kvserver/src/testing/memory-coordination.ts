import { restoreMember, type StateRecord } from '@kvstore/protocol';
import { applyIsrChange, decideCampaign, decideHandOver, decideResign, isHandedOverTo, type CampaignInput } from '../replication/election';
import { DeposedError, type IsrChange, type IsrCoordination } from '../replication/types';

/**
 * `/partitions/<p>/state` in memory, changed the way zk/partition-coordinator.ts
 * changes it in ZooKeeper: campaigns and resignations decided by
 * replication/election.ts, in-sync set updates by compare-and-set that fail
 * with DeposedError once the state no longer names the caller leader at its
 * epoch; planned handovers by decideHandOver. Watchers hear of every change on a later microtask. `block()` makes
 * in-sync set updates wait (a slow ZooKeeper) until `unblock()`.
 */
export class MemoryCoordination {
  state: StateRecord = { epoch: 0, leader: null, isr: [] };
  /** Raised by one on every write, like a znode's version. */
  version = 0;
  private readonly endedSessions = new Set<string>();
  private readonly watchers: ((state: StateRecord) => void)[] = [];
  private blockedUntil: Promise<void> | undefined;
  private unblockNow: (() => void) | undefined;

  /** The IsrCoordination a replica with this id gets. */
  forReplica(id: string): IsrCoordination {
    return {
      updateIsr: (epoch, change) => this.updateIsr(id, epoch, change),
      handOver: (epoch, target) => this.handOver(id, epoch, target.id),
    };
  }

  watch(watcher: (state: StateRecord) => void): void {
    this.watchers.push(watcher);
  }

  /** Writes the state `decideCampaign` gives, if it gives one: as zk/campaign.ts answers, or undefined when `self` may not lead. */
  campaign(input: Omit<CampaignInput, 'state'>): { next: StateRecord; handedOver: boolean } | undefined {
    const handedOver = isHandedOverTo(input.self, this.state);
    const next = decideCampaign({ ...input, state: this.state });
    if (!next) return undefined;
    this.write(next);
    return { next, handedOver };
  }

  /** What a memory replica does on start: leave the in-sync set (and the leadership), since it holds nothing. */
  resign(id: string): void {
    const next = decideResign(id, this.state);
    if (next) this.write(next);
  }

  /** What a gate does for `kvctl cluster restore-member`. */
  restore(id: string): void {
    const next = restoreMember(this.state, id);
    if (next) this.write(next);
  }

  /** The replica's ZooKeeper session ended: it can no longer write `/state`. */
  endSession(id: string): void {
    this.endedSessions.add(id);
  }

  startSession(id: string): void {
    this.endedSessions.delete(id);
  }

  block(): void {
    this.blockedUntil ??= new Promise((resolve) => (this.unblockNow = resolve));
  }

  unblock(): void {
    this.unblockNow?.();
    this.blockedUntil = undefined;
    this.unblockNow = undefined;
  }

  private async updateIsr(id: string, epoch: number, change: IsrChange): Promise<string[]> {
    await Promise.resolve(); // a round trip to ZooKeeper is never synchronous
    while (this.blockedUntil) await this.blockedUntil;
    if (this.endedSessions.has(id)) throw new DeposedError('no ZooKeeper session');
    const { state } = this;
    if (state.epoch !== epoch || state.leader !== id) {
      throw new DeposedError(`state is now epoch ${state.epoch} led by ${state.leader}`);
    }
    const next = applyIsrChange(state, change);
    const isr = [...new Set([...next.isr, id])].sort();
    this.write({ ...next, isr });
    return isr;
  }

  /** What zk/state-writes.ts handOver writes (the sim's `/leader` node goes with it: see SimCluster). */
  private async handOver(id: string, epoch: number, target: string): Promise<void> {
    await Promise.resolve();
    while (this.blockedUntil) await this.blockedUntil;
    if (this.endedSessions.has(id)) throw new DeposedError('no ZooKeeper session');
    if (this.endedSessions.has(target)) throw new Error(`${target} is no longer registered`);
    const { state } = this;
    if (state.epoch !== epoch || state.leader !== id) throw new DeposedError(`state is now epoch ${state.epoch} led by ${state.leader}`);
    const next = decideHandOver(id, epoch, target, state);
    if (!next) throw new Error(`${target} is not in the in-sync set`);
    this.write(next);
  }

  private write(next: StateRecord): void {
    this.state = next;
    this.version++;
    queueMicrotask(() => {
      for (const watcher of this.watchers) watcher(this.state);
    });
  }
}
