import { SLOT_COUNT, slotOf } from '@kvstore/protocol';
import type { SnapshotRecord, StoredValue } from '../replication/kv-store';

const NO_KEYS: ReadonlySet<string> = new Set();

/**
 * The keys of each slot, kept by a store on every write, so that resharding
 * finds a slot's keys without scanning the whole state. Adding a key costs
 * one CRC-16 pass over it and a Set insertion.
 */
export class SlotIndex {
  private readonly bySlot: Array<Set<string> | undefined> = new Array<Set<string> | undefined>(SLOT_COUNT).fill(undefined);

  add(key: string): void {
    const slot = slotOf(key);
    (this.bySlot[slot] ??= new Set()).add(key);
  }

  remove(key: string): void {
    this.bySlot[slotOf(key)]?.delete(key);
  }

  count(slot: number): number {
    return this.bySlot[slot]?.size ?? 0;
  }

  /** The live set of `slot`'s keys: copy it before removing keys while going through it. */
  keysOf(slot: number): ReadonlySet<string> {
    return this.bySlot[slot] ?? NO_KEYS;
  }

  /** Up to `limit` keys of `slots`. */
  someKeys(slots: readonly number[], limit: number): string[] {
    const found: string[] = [];
    for (const slot of slots) {
      for (const key of this.keysOf(slot)) {
        if (found.length >= limit) return found;
        found.push(key);
      }
    }
    return found;
  }

  /** The records of `slots`, each read by `read` (a key it does not find is left out). */
  records(slots: readonly number[], read: (key: string) => StoredValue | undefined): SnapshotRecord[] {
    const records: SnapshotRecord[] = [];
    for (const slot of slots) {
      for (const key of this.keysOf(slot)) {
        const stored = read(key);
        if (stored) records.push({ key, ...stored });
      }
    }
    return records;
  }

  clear(): void {
    this.bySlot.fill(undefined);
  }
}
