import { SLOT_COUNT } from '@kvstore/protocol';
import type { SlotState } from '../replication/kv-store';

/** A partition that never fenced or imported a slot. */
export const NO_SLOTS: SlotState = Object.freeze({ fenced: new Set<number>(), versionOffset: 0 });

/** SlotState as JSON: in LMDB's meta and in the snapshot stream's header. */
export interface SlotStateJson {
  fenced: number[];
  versionOffset: number;
}

export function isSlot(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < SLOT_COUNT;
}

export function slotStateToJson(state: SlotState): SlotStateJson {
  return { fenced: [...state.fenced].sort((a, b) => a - b), versionOffset: state.versionOffset };
}

/** Parses what slotStateToJson wrote; undefined (written before resharding existed) is NO_SLOTS. Throws on anything else. */
export function slotStateFromJson(value: unknown, what: string): SlotState {
  if (value === undefined) return NO_SLOTS;
  const { fenced, versionOffset } = (typeof value === 'object' && value !== null ? value : {}) as Partial<Record<keyof SlotStateJson, unknown>>;
  if (!Array.isArray(fenced) || !fenced.every(isSlot)) throw new Error(`${what}: slots.fenced must be an array of slot numbers below ${SLOT_COUNT}`);
  if (!Number.isSafeInteger(versionOffset) || (versionOffset as number) < 0) throw new Error(`${what}: slots.versionOffset must be a non-negative integer`);
  return { fenced: new Set(fenced), versionOffset: versionOffset as number };
}
