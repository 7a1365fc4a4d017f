import type { MemoryZooKeeper } from '@kvstore/cluster/testing';
import pino from 'pino';
import { RoutingState } from '../src/routing/routing-state';
import type { ClusterSnapshot, PartitionRecords } from '../src/routing/snapshot';
import { ClusterWatcher } from '../src/zk/cluster-watcher';

/** How a test describes a partition: its live replica ids and which of them leads. */
export interface PartitionSpec {
  members?: string[];
  leader?: string;
  epoch?: number;
}

export const urlOf = (id: string): string => `http://${id}.test:4000`;

/** Builds the records the watcher would read for a cluster described in one line per partition. */
export function snapshotOf(spec: Record<string, PartitionSpec>, ring: { version?: number; partitions?: string[] } = {}): ClusterSnapshot {
  const partitions = new Map<string, PartitionRecords>();
  for (const [name, { members = [], leader, epoch = 1 }] of Object.entries(spec)) {
    const records: PartitionRecords = {
      members: members.map((id) => ({ id, url: urlOf(id) })),
      state: { epoch, leader: leader ?? null, isr: [...members] },
    };
    if (leader) records.leader = { id: leader, url: urlOf(leader), epoch };
    partitions.set(name, records);
  }
  return { ring: { version: ring.version ?? 1, partitions: ring.partitions ?? Object.keys(spec) }, partitions };
}

export const keys = (count: number): string[] => Array.from({ length: count }, (_, index) => `key-${index}`);

/** Waits for `check` to hold, for state a test cannot be told about (a watcher's next read). */
export async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A gate's watcher of `cluster` on an in-memory ZooKeeper, feeding a routing state, as gate.ts wires them (not started). */
export function memoryWatcher(zk: MemoryZooKeeper, cluster: string): { watcher: ClusterWatcher; routing: RoutingState } {
  const routing = new RoutingState();
  const watcher = new ClusterWatcher({
    connectString: 'memory',
    cluster,
    sessionTimeoutMs: 1000,
    gateUrl: 'http://gate.test:3000',
    logger: pino({ level: 'silent' }),
    onSnapshot: (snapshot) => routing.update(snapshot),
    connect: () => Promise.resolve(zk.connect()),
  });
  return { watcher, routing };
}
