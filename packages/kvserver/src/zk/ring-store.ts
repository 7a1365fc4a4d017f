import { ZkError, type ZkClient } from '@kvstore/cluster';
import { Ring, clusterPaths, encodeRecord, parseRing, placeSlots, ringRecord, type RingRecord } from '@kvstore/protocol';

const CONTENTION_ATTEMPTS = 50;

/**
 * Reads `/ring`, lets `change` decide the next record (undefined: keep it),
 * and writes it by compare-and-set, again on conflict. Creates the ring
 * from `change(undefined)` when there is none.
 */
async function updateRing(session: ZkClient, cluster: string, change: (ring: Ring | undefined) => RingRecord | undefined): Promise<RingRecord | undefined> {
  const path = clusterPaths(cluster).ring;
  await session.mkdirp(clusterPaths(cluster).root);
  for (let attempt = 0; attempt < CONTENTION_ATTEMPTS; attempt++) {
    const node = await session.getData(path);
    const current = node && parseRing(node.data);
    const next = change(current && new Ring(current));
    if (!next) return current;
    try {
      if (node) await session.setData(path, encodeRecord(next), node.version);
      else await session.create(path, encodeRecord(next), 'persistent');
      return next;
    } catch (error) {
      if (error instanceof ZkError && (error.code === 'BAD_VERSION' || error.code === 'NODE_EXISTS')) continue;
      throw error;
    }
  }
  throw new ZkError('OTHER', `could not update ${path}: too much contention`);
}

/**
 * Puts `partition` on a ring that holds no data yet (not sealed): its slots
 * are given at once, since nothing needs copying. The first partition
 * creates the ring. On a sealed ring nothing changes here: the partition
 * joins by a migration (SlotRouting). Returns the ring as it now is.
 */
export async function ensurePartitionOnRing(session: ZkClient, cluster: string, partition: string): Promise<RingRecord> {
  const ring = await updateRing(session, cluster, (current) => {
    if (!current) return ringRecord(1, placeSlots([partition]));
    if (current.sealed || current.has(partition)) return undefined;
    return ringRecord(current.version + 1, placeSlots([...current.partitions, partition]), { extra: current.partitions });
  });
  return ring!;
}

/**
 * Marks the ring as holding data, before the first write is accepted: from
 * then on no partition takes slots without their data.
 */
export async function sealRing(session: ZkClient, cluster: string): Promise<RingRecord | undefined> {
  return updateRing(session, cluster, (current) => {
    if (!current || current.sealed) return undefined;
    return { ...current.record, version: current.version + 1, sealed: true };
  });
}
