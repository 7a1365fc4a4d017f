import type { StateRecord } from '@kvstore/protocol';
import type { IsrChange } from './types';

/**
 * Leader election decisions, free of ZooKeeper: the driver reads `/state`,
 * asks these functions what to write, and writes it by compare-and-set.
 */

export interface CampaignInput {
  self: string;
  state: StateRecord;
  /** Ids with a live member node in ZooKeeper. */
  liveMembers: readonly string[];
  /**
   * The member node (incarnation) under which each live member is
   * registered now, this replica's own included, where known. Compared with
   * the incarnations `/state` recorded, it tells which in-sync replicas have
   * restarted since they were last known in sync.
   */
  liveIncarnations?: Readonly<Record<string, string>>;
  /** The ephemeral `/leader` node exists: some session still holds leadership. */
  leaderNodeExists: boolean;
  /** The highest epoch this replica has seen (a leader's messages may bring it before ZooKeeper does); the new epoch is above it. */
  epochSeen?: number;
}

/**
 * The state to write to become leader, or undefined when this replica must
 * not campaign. Only a member of the in-sync set may lead, so every
 * acknowledged write is kept; an empty set means every replica that had
 * the data has lost it (memory replicas that restarted), so anyone may.
 * Among the in-sync replicas, one that has restarted since it was last
 * known in sync gives way to a live one that has not; when every live one
 * has restarted (a durable partition restarted whole), any of them may. A
 * replica taken out for maintenance (`excluded`) never leads; the target of
 * a planned handover (`transferTo`) that is live and may lead is left to
 * take the lead alone.
 */
export function decideCampaign({ self, state, liveMembers, liveIncarnations = {}, leaderNodeExists, epochSeen = 0 }: CampaignInput): StateRecord | undefined {
  if (leaderNodeExists) return undefined;
  const live = new Set(liveMembers);
  const recorded = state.incarnations ?? {};
  const excluded = state.excluded ?? [];
  const unrestarted = (id: string): boolean => recorded[id] !== undefined && recorded[id] === liveIncarnations[id];
  const mayLead = (id: string): boolean =>
    !excluded.includes(id) &&
    (state.isr.length === 0 || state.isr.includes(id)) &&
    (unrestarted(id) || !state.isr.some((other) => other !== id && live.has(other) && unrestarted(other)));
  // A live recorded leader (or handover target) that may lead takes its place; one that may not holds nobody off.
  for (const preferred of [state.leader, state.transferTo]) {
    if (preferred != null && preferred !== self && live.has(preferred) && mayLead(preferred)) return undefined;
  }
  if (!mayLead(self)) return undefined;
  const isr = [...new Set([...state.isr.filter((id) => live.has(id)), self])].sort();
  const epoch = Math.max(state.epoch, epochSeen) + 1;
  const incarnations = Object.fromEntries(Object.entries(recorded).filter(([id]) => isr.includes(id)));
  const own = liveIncarnations[self];
  if (own !== undefined) incarnations[self] = own;
  return withOptionalFields({ epoch, leader: self, isr }, incarnations, excluded);
}

/** Whether `state` is a planned handover to `self`: its leader gave up its read lease before writing it (Leadership.transferTo). */
export function isHandedOverTo(self: string, state: StateRecord): boolean {
  return state.leader === null && state.transferTo === self;
}

/**
 * The state a leader of `epoch` writes to hand the lead to `target` (a
 * planned transfer): no leader, and `transferTo` so that only the target
 * campaigns. Undefined when `/state` no longer names this replica at
 * `epoch`, or the target is not in the in-sync set there.
 */
export function decideHandOver(self: string, epoch: number, target: string, state: StateRecord): StateRecord | undefined {
  if (state.leader !== self || state.epoch !== epoch || !state.isr.includes(target) || (state.excluded ?? []).includes(target)) return undefined;
  return { ...state, leader: null, transferTo: target };
}

/**
 * The state to write when this replica stops leading `epoch` while `/state`
 * still names it (its `/leader` node went, or taking the lead failed): no
 * leader, so that a new election can happen. Undefined when the state has
 * moved on.
 */
export function decideStepAside(self: string, epoch: number, state: StateRecord): StateRecord | undefined {
  return state.leader === self && state.epoch === epoch ? { ...state, leader: null } : undefined;
}

/**
 * The state to write when a replica gives up its place in the in-sync set
 * because it no longer holds the data (a memory replica that restarted, or
 * one shutting down). Undefined when there is nothing to change.
 */
export function decideResign(self: string, state: StateRecord): StateRecord | undefined {
  if (!state.isr.includes(self) && state.leader !== self) return undefined;
  const resigned = applyIsrChange(state, { remove: self });
  return { ...resigned, leader: state.leader === self ? null : state.leader };
}

/** `/state` with one in-sync set change applied; an added member's incarnation is recorded beside it. */
export function applyIsrChange(state: StateRecord, change: IsrChange): StateRecord {
  const { incarnations: _incarnations, excluded: _excluded, ...rest } = state;
  const incarnations = { ...state.incarnations };
  let excluded = state.excluded ?? [];
  let isr: string[];
  if ('add' in change) {
    const { id, incarnation } = change.add;
    // Taken out for maintenance since the leader decided: it stays out.
    if (excluded.includes(id)) return state;
    isr = [...new Set([...state.isr, id])].sort();
    if (incarnation === undefined) delete incarnations[id];
    else incarnations[id] = incarnation;
  } else {
    const id = 'remove' in change ? change.remove : change.exclude;
    isr = state.isr.filter((member) => member !== id);
    delete incarnations[id];
    if ('exclude' in change) excluded = [...new Set([...excluded, id])].sort();
  }
  return withOptionalFields({ ...rest, isr }, incarnations, excluded);
}

/** A record carries `incarnations` and `excluded` only when they hold something (as records written before they existed). */
function withOptionalFields(state: StateRecord, incarnations: Record<string, string>, excluded: readonly string[]): StateRecord {
  const record: StateRecord = { ...state };
  if (Object.keys(incarnations).length > 0) record.incarnations = incarnations;
  if (excluded.length > 0) record.excluded = [...excluded];
  return record;
}
