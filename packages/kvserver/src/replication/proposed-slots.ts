import type { Operation } from './entry';
import type { SlotState } from './kv-store';

/**
 * Slot ownership as the leader's log makes it, committed or not: the
 * applied state (KvStore.slots) with the log's unapplied tail folded in.
 * A write or strong read is judged against this, so once a fence is in the
 * log no later entry can write its slots, whoever leads next.
 */
export class ProposedSlots implements SlotState {
  readonly fenced: Set<number>;
  versionOffset: number;

  constructor(applied: SlotState, tail: Iterable<Operation>) {
    this.fenced = new Set(applied.fenced);
    this.versionOffset = applied.versionOffset;
    for (const op of tail) this.observe(op);
  }

  observe(op: Operation): void {
    if (op.type === 'fence') for (const slot of op.slots) this.fenced.add(slot);
    else if (op.type === 'unfence') for (const slot of op.slots) this.fenced.delete(slot);
    else if (op.type === 'import') {
      if (op.clear) for (const slot of op.slots) this.fenced.delete(slot);
      this.versionOffset = Math.max(this.versionOffset, op.versionFloor);
    }
  }
}
