import { Ring, type ClusterView, type MigrationView, type PartitionView, type RingRecord, type Role } from '@kvstore/protocol';
import type { PartitionHistory } from './partition-history';
import type { PartitionTraffic } from './traffic-sampler';

/**
 * ok: a leader and every replica in sync; degraded: a leader, but a replica
 * is out of sync, silent or gone; down: no leader. A lag alone is shown, not
 * judged: under writes a follower is always a few entries behind for a moment.
 */
export type PartitionHealth = 'ok' | 'degraded' | 'down';

export interface UiMember {
  id: string;
  /** Absent where the viewer may not see addresses (docs/security.md). */
  url?: string;
  role: Role;
  inSync: boolean;
  lastSeq: number | null;
  /** Entries behind the leader; null when unknown. */
  lag: number | null;
}

export interface UiPartition extends PartitionTraffic {
  name: string;
  health: PartitionHealth;
  /** Why it is not ok, one phrase each. */
  issues: string[];
  epoch: number;
  leader: string | null;
  /** When this gate saw the leader change last (ms since the epoch); null: not since it started. */
  leaderChangedAt: number | null;
  slots: number;
  members: UiMember[];
}

/** `GET /v1/ui/view`: what the web view shows, built at most once a second (see CachedValue). */
export interface UiView {
  cluster: string;
  builtAt: number;
  ring: {
    version: number;
    sealed: boolean;
    partitions: string[];
    /** The slot table run-length encoded: `[first slot, index into partitions]`, by slot; a run ends where the next begins. */
    runs: [number, number][];
  };
  partitions: UiPartition[];
  migration: MigrationView | null;
  problems: { path: string; error: string }[];
}

export interface UiViewSources {
  /** The ring as the gate routes by; undefined before one is loaded. */
  ring: RingRecord | undefined;
  history: Pick<PartitionHistory, 'leaderChangedAt' | 'mostMembers'>;
  traffic: (partition: string) => PartitionTraffic;
  builtAt: number;
}

/** The web view of `cluster` (the gate's `/v1/cluster` view) with what the gate knows besides; pure. */
export function buildUiView(cluster: ClusterView, sources: UiViewSources): UiView {
  const ring = sources.ring && new Ring(sources.ring);
  const ringPartitions = ring ? [...ring.partitions] : [];
  return {
    cluster: cluster.cluster,
    builtAt: sources.builtAt,
    ring: {
      version: cluster.ring.version,
      sealed: cluster.ring.sealed === true,
      partitions: ringPartitions,
      runs: ring ? slotRuns(ring.slotOwners(), ringPartitions) : [],
    },
    partitions: cluster.partitions.map((partition) => uiPartition(partition, cluster.ring.slots?.[partition.name] ?? 0, sources)),
    migration: cluster.migration ?? null,
    problems: cluster.problems ?? [],
  };
}

function uiPartition(partition: PartitionView, slots: number, sources: UiViewSources): UiPartition {
  const isr = new Set(partition.isr);
  const members = partition.members.map((member) => ({ ...member, inSync: isr.has(member.id) }));
  const { health, issues } = healthOf(partition, members, sources.history.mostMembers(partition.name));
  return {
    name: partition.name,
    health,
    issues,
    epoch: partition.epoch,
    leader: partition.leader,
    leaderChangedAt: sources.history.leaderChangedAt(partition.name),
    slots,
    members,
    ...sources.traffic(partition.name),
  };
}

export function healthOf(partition: PartitionView, members: readonly UiMember[], mostMembers: number): { health: PartitionHealth; issues: string[] } {
  if (partition.leader === null) return { health: 'down', issues: ['no leader'] };
  const issues: string[] = [];
  const live = new Set(members.map((member) => member.id));
  for (const member of members) {
    if (!member.inSync) issues.push(`${member.id} out of sync`);
    if (member.lastSeq === null) issues.push(`${member.id} does not answer`);
  }
  for (const id of partition.isr) if (!live.has(id)) issues.push(`${id} in sync but not live`);
  if (members.length < mostMembers) issues.push(`${members.length} of ${mostMembers} replicas live`);
  return { health: issues.length === 0 ? 'ok' : 'degraded', issues };
}

/** `[first slot, partition index]` for every run of slots with one owner. */
export function slotRuns(owners: readonly string[], partitions: readonly string[]): [number, number][] {
  const index = new Map(partitions.map((name, position) => [name, position]));
  const runs: [number, number][] = [];
  owners.forEach((owner, slot) => {
    if (slot === 0 || owner !== owners[slot - 1]) runs.push([slot, index.get(owner) ?? -1]);
  });
  return runs;
}
