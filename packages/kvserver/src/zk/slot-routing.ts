import { KvError, slotOf, unavailable } from '@kvstore/protocol';
import type { KeyRouting, KeyUse } from '../http/kv-service';
import type { RoutingRecords } from './routing-records';
import type { Replica } from '../replication/replica';
import { sealRing } from './ring-store';

/** Why this replica does not serve a key (KvService adds the ring version it judged by to the answer). */
function notServed(message: string): KvError {
  return new KvError('WRONG_PARTITION', message);
}

export interface SlotRoutingDeps {
  partition: string;
  cluster: string;
  replica: Replica;
  records: RoutingRecords;
}

/**
 * Which keys this replica serves, by the slot table (docs/resharding.md).
 * The table is a routing hint that can be stale; what makes a move safe is
 * in the logs (the source's fence, the destination's import). The table
 * check here turns requests away early, tells a gate with an older table
 * to catch up, and keeps a follower from serving a slot before it has
 * applied the import that brought it.
 */
export class SlotRouting implements KeyRouting {
  private sealing: Promise<void> | undefined;

  constructor(private readonly deps: SlotRoutingDeps) {}

  get ringVersion(): number | undefined {
    return this.deps.records.currentRing?.version;
  }

  /** Throws WRONG_PARTITION (421) or UNAVAILABLE when this replica must not serve `key` for `use`. */
  check(key: string, use: KeyUse, requestVersion: number | undefined): void {
    const ring = this.deps.records.currentRing;
    if (!ring) return; // not loaded yet: readiness says so, and the fences still guard the data
    const slot = slotOf(key);
    const owner = ring.ownerOfSlot(slot);
    if (owner !== this.deps.partition) {
      throw notServed(`slot ${slot} belongs to partition ${owner} (ring version ${ring.version})`);
    }
    if (requestVersion !== undefined && requestVersion > ring.version) {
      throw notServed(`routed by ring version ${requestVersion}; this replica has seen only ${ring.version}`);
    }
    if (use !== 'eventual') return;
    const store = this.deps.replica.store;
    if (store.slots.fenced.has(slot)) throw notServed(`slot ${slot} is moving to another partition`);
    if (store.appliedSeq < ring.sinceOf(slot)) throw unavailable(`slot ${slot} moved here; this replica has not applied its data yet`);
  }

  /** Before a write: the ring is sealed (resolves at once once it is). */
  beforeWrite(): Promise<void> | undefined {
    if (this.deps.records.currentRing?.sealed !== false) return undefined;
    this.sealing ??= this.seal().finally(() => (this.sealing = undefined));
    return this.sealing;
  }

  private async seal(): Promise<void> {
    const session = this.deps.records.zk();
    if (!session) throw unavailable('not connected to ZooKeeper: cannot seal the ring before the first write');
    const sealed = await sealRing(session, this.deps.cluster);
    if (sealed) this.deps.records.adoptRing(sealed);
  }
}
