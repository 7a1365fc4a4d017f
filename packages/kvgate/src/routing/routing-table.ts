import { Ring } from '@kvstore/protocol';
import type { ClusterSnapshot, PartitionRecords } from './snapshot';

export interface Endpoint {
  id: string;
  url: string;
}

export interface Route {
  partition: string;
  /** The replica writes and strong reads go to; absent while the partition has no leader. */
  leader?: Endpoint;
  /** Live replicas, sorted by id. */
  replicas: Endpoint[];
}

/**
 * The leader record counts only if it is not older than the partition's
 * state: a record from an earlier epoch belongs to a deposed leader whose
 * successor has not published itself yet, and it would answer NOT_LEADER.
 */
export function currentLeader(records: PartitionRecords | undefined): Endpoint | undefined {
  const leader = records?.leader;
  if (!leader) return undefined;
  if (records.state && leader.epoch < records.state.epoch) return undefined;
  return { id: leader.id, url: leader.url };
}

/**
 * Pure routing: records in, route out. Built anew from every snapshot, so a
 * table never changes under a request; the only mutable part is the
 * round-robin cursor that spreads eventual reads over the replicas.
 */
export class RoutingTable {
  private readonly ring: Ring | undefined;
  private readonly routes = new Map<string, Route>();
  private readonly cursors = new Map<string, number>();

  constructor(snapshot: ClusterSnapshot) {
    this.ring = snapshot.ring && new Ring(snapshot.ring);
    for (const partition of this.ring?.partitions ?? []) {
      const records = snapshot.partitions.get(partition);
      const replicas = (records?.members ?? [])
        .map(({ id, url }) => ({ id, url }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const leader = currentLeader(records);
      this.routes.set(partition, leader ? { partition, leader, replicas } : { partition, replicas });
    }
  }

  get ringVersion(): number | undefined {
    return this.ring?.version;
  }

  /**
   * The partition that owns `key` on the ring, with its leader and replicas.
   * A partition without a leader still owns its keys: the caller answers 503
   * rather than send them elsewhere. Undefined only when no ring is loaded
   * or the ring is empty.
   */
  route(key: string): Route | undefined {
    const partition = this.ring?.ownerOf(key);
    return partition === undefined ? undefined : this.routes.get(partition);
  }

  /** The next replica of `route` in round-robin order, for eventual reads. */
  nextReplica(route: Route): Endpoint | undefined {
    if (route.replicas.length === 0) return undefined;
    const cursor = this.cursors.get(route.partition) ?? 0;
    this.cursors.set(route.partition, (cursor + 1) % route.replicas.length);
    return route.replicas[cursor % route.replicas.length];
  }

  /** The live replica of `partition` reachable at `url`, if any (to trust a NOT_LEADER hint). */
  memberAt(partition: string, url: string): Endpoint | undefined {
    const normalized = url.replace(/\/+$/, '');
    return this.routes.get(partition)?.replicas.find((replica) => replica.url.replace(/\/+$/, '') === normalized);
  }
}
