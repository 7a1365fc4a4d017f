import { currentLeader } from '../routing/routing-table';
import type { ClusterSnapshot } from '../routing/snapshot';

interface Seen {
  leader: string | null;
  epoch: number;
  /** When this gate saw the leader change; null for the one it found when it started. */
  changedAt: number | null;
  /** The most live replicas this gate has seen at once. */
  mostMembers: number;
}

/**
 * What the web view needs to remember of a partition's records that
 * ZooKeeper does not keep: when the leader last changed, and how many
 * replicas it had at most (a replica that died and whose member node went
 * with it leaves the partition degraded, not healthy with one fewer).
 * Fed every snapshot the watcher publishes.
 */
export class PartitionHistory {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly now: () => number = Date.now) {}

  observe(snapshot: ClusterSnapshot): void {
    for (const [name, records] of snapshot.partitions) {
      const leader = currentLeader(records)?.id ?? null;
      const epoch = records.state?.epoch ?? records.leader?.epoch ?? 0;
      const before = this.seen.get(name);
      const changed = before !== undefined && (before.leader !== leader || before.epoch !== epoch);
      this.seen.set(name, {
        leader,
        epoch,
        changedAt: changed ? this.now() : (before?.changedAt ?? null),
        mostMembers: Math.max(before?.mostMembers ?? 0, records.members.length),
      });
    }
    for (const name of this.seen.keys()) if (!snapshot.partitions.has(name)) this.seen.delete(name);
  }

  leaderChangedAt(partition: string): number | null {
    return this.seen.get(partition)?.changedAt ?? null;
  }

  mostMembers(partition: string): number {
    return this.seen.get(partition)?.mostMembers ?? 0;
  }
}
