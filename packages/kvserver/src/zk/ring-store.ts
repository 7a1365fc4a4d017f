import { ZkError, type ZkClient } from '@kvstore/cluster';
import { clusterPaths, encodeRecord, parseRing, type RingRecord } from '@kvstore/protocol';

/**
 * Puts `partition` on the ring if it is not there yet, by compare-and-set so
 * that replicas of new partitions starting together never lose an update.
 * The ring's version rises by one on every change.
 */
export async function ensurePartitionOnRing(session: ZkClient, cluster: string, partition: string): Promise<RingRecord> {
  const path = clusterPaths(cluster).ring;
  await session.mkdirp(clusterPaths(cluster).root);
  for (let attempt = 0; attempt < 50; attempt++) {
    const node = await session.getData(path);
    if (!node) {
      const ring: RingRecord = { version: 1, partitions: [partition] };
      try {
        await session.create(path, encodeRecord(ring), 'persistent');
        return ring;
      } catch (error) {
        if (error instanceof ZkError && error.code === 'NODE_EXISTS') continue;
        throw error;
      }
    }
    const ring = parseRing(node.data);
    if (ring.partitions.includes(partition)) return ring;
    const next: RingRecord = { version: ring.version + 1, partitions: [...ring.partitions, partition].sort() };
    try {
      await session.setData(path, encodeRecord(next), node.version);
      return next;
    } catch (error) {
      if (error instanceof ZkError && error.code === 'BAD_VERSION') continue;
      throw error;
    }
  }
  throw new ZkError('OTHER', `could not add ${partition} to the ring: too much contention`);
}
