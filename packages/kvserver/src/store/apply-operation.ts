import { slotOf } from '@kvstore/protocol';
import type { LogEntry, Operation } from '../replication/entry';
import type { SlotState, StoredValue } from '../replication/kv-store';

/** The applied state as seen by applyOperation: each store's own reads and writes (they also keep its slot index). */
export interface KeyTable {
  get(key: string): StoredValue | undefined;
  set(key: string, stored: StoredValue): void;
  remove(key: string): void;
  keysOf(slot: number): ReadonlySet<string>;
}

/**
 * What an entry does to the state, in one place so the memory and the
 * durable store agree exactly. Returns the slot state after the entry:
 * `slots` itself when the entry leaves it alone, a new object otherwise
 * (a SlotState is never changed in place, so snapshots can hold it).
 */
export function applyOperation(entry: LogEntry, slots: SlotState, table: KeyTable): SlotState {
  const { op } = entry;
  switch (op.type) {
    case 'put':
      table.set(op.key, { value: op.value, version: entry.seq + slots.versionOffset, expiresAt: op.expiresAt });
      return slots;
    case 'delete':
      table.remove(op.key);
      return slots;
    case 'expire':
      if (table.get(op.key)?.version === op.version) table.remove(op.key);
      return slots;
    case 'noop':
      return slots;
    case 'fence':
      return { fenced: new Set([...slots.fenced, ...op.slots]), versionOffset: slots.versionOffset };
    case 'unfence':
      return { fenced: without(slots.fenced, op.slots), versionOffset: slots.versionOffset };
    case 'import':
      return applyImport(op, slots, table);
    case 'purge':
      // Only keys of slots still fenced: an aborted move (unfenced) keeps its keys.
      for (const key of op.keys) if (slots.fenced.has(slotOf(key)) && table.get(key) !== undefined) table.remove(key);
      return slots;
  }
}

function applyImport(op: Extract<Operation, { type: 'import' }>, slots: SlotState, table: KeyTable): SlotState {
  let { fenced } = slots;
  if (op.clear) {
    for (const slot of op.slots) for (const key of [...table.keysOf(slot)]) table.remove(key);
    fenced = without(fenced, op.slots);
  }
  for (const { key, value, version, expiresAt } of op.records) table.set(key, { value, version, expiresAt });
  return { fenced, versionOffset: Math.max(slots.versionOffset, op.versionFloor) };
}

function without(fenced: ReadonlySet<number>, slots: readonly number[]): Set<number> {
  const left = new Set(fenced);
  for (const slot of slots) left.delete(slot);
  return left;
}
