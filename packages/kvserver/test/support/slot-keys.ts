import { slotOf } from '@kvstore/protocol';

/**
 * `count` distinct keys of one slot that is not in `taken` (the slot is
 * added to it), found by hashing `prefix0`, `prefix1`, ... : tests need
 * keys that share a slot, and slots that differ.
 */
export function keysOfOneSlot(prefix: string, count: number, taken: Set<number>): { slot: number; keys: string[] } {
  const bySlot = new Map<number, string[]>();
  for (let index = 0; ; index++) {
    const key = `${prefix}${index}`;
    const slot = slotOf(key);
    if (taken.has(slot)) continue;
    const keys = bySlot.get(slot) ?? [];
    keys.push(key);
    bySlot.set(slot, keys);
    if (keys.length === count) {
      taken.add(slot);
      return { slot, keys };
    }
  }
}
