import { Ring, type RoutingView } from '@kvstore/protocol';

/** What a request wants of its key's partition: writes and strong reads go to the leader, eventual reads to any in-sync replica. */
export type KeyUse = 'write' | 'strong' | 'eventual';

export interface DirectTarget {
  partition: string;
  /** The replica's public base url. */
  url: string;
}

interface PartitionTargets {
  leader: string | undefined;
  /** Live in-sync replicas (the leader among them), for eventual reads. */
  inSync: string[];
}

/**
 * A client's routing table, built from a gate's `/v1/routing`: pure, and
 * never changed once built but for the round-robin cursor of eventual reads.
 * The same Ring as the gates' routes every key to the same partition.
 */
export class DirectRoutes {
  readonly ringVersion: number;
  private readonly ring: Ring;
  private readonly partitions = new Map<string, PartitionTargets>();
  private cursor = 0;

  constructor(private readonly view: RoutingView) {
    this.ring = new Ring(view.ring);
    this.ringVersion = this.ring.version;
    for (const [name, route] of Object.entries(view.partitions)) {
      const live = new Map(route.members.map((member) => [member.id, member.url]));
      const inSync = route.isr.flatMap((id) => live.get(id) ?? []);
      this.partitions.set(name, { leader: route.leader?.url, inSync: inSync.length > 0 ? inSync : route.leader ? [route.leader.url] : [] });
    }
  }

  /**
   * This table with `url` as `partition`'s leader, when a replica named it
   * so (NOT_LEADER); undefined unless `url` is one of the partition's
   * members here: a name from elsewhere is not followed (it would get the
   * request, and the token).
   */
  withLeader(partition: string, url: string): DirectRoutes | undefined {
    const route = this.view.partitions[partition];
    const member = route?.members.find((candidate) => candidate.url === url);
    if (!route || !member) return undefined;
    return new DirectRoutes({ ...this.view, partitions: { ...this.view.partitions, [partition]: { ...route, leader: { id: member.id, url } } } });
  }

  /** Where `key` goes for `use`; undefined when the table knows no such replica (no leader now, say): the gate waits for one. */
  target(key: string, use: KeyUse): DirectTarget | undefined {
    const partition = this.ring.ownerOf(key);
    const targets = partition === undefined ? undefined : this.partitions.get(partition);
    if (!targets || partition === undefined) return undefined;
    if (use !== 'eventual') return targets.leader === undefined ? undefined : { partition, url: targets.leader };
    if (targets.inSync.length === 0) return undefined;
    return { partition, url: targets.inSync[this.cursor++ % targets.inSync.length]! };
  }
}
