import type { PartitionRoute, RoutingView } from '@kvstore/protocol';
import { currentLeader } from './routing-table';
import type { ClusterSnapshot } from './snapshot';

/** `GET /v1/routing` from the watcher's records, without asking any replica: cheap enough for every client's refresh. Undefined before a ring is loaded. */
export function routingView(snapshot: ClusterSnapshot): RoutingView | undefined {
  if (!snapshot.ring) return undefined;
  const partitions: Record<string, PartitionRoute> = {};
  for (const [name, records] of snapshot.partitions) {
    const members = records.members.map(({ id, url }) => ({ id, url })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    partitions[name] = {
      epoch: records.state?.epoch ?? records.leader?.epoch ?? 0,
      leader: currentLeader(records) ?? null,
      isr: [...(records.state?.isr ?? [])],
      members,
    };
  }
  return { ring: snapshot.ring, partitions };
}
