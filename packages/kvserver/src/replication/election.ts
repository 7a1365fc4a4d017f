import type { StateRecord } from '@kvstore/topology';
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
  /** The ephemeral `/leader` node exists: some session still holds leadership. */
  leaderNodeExists: boolean;
}

/**
 * The state to write to become leader, or undefined when this replica must
 * not campaign. Only a member of the in-sync set may lead, so every
 * acknowledged write is kept; an empty set means every replica that had
 * the data has lost it (memory replicas that restarted), so anyone may.
 */
export function decideCampaign({ self, state, liveMembers, leaderNodeExists }: CampaignInput): StateRecord | undefined {
  if (leaderNodeExists) return undefined;
  const live = new Set(liveMembers);
  if (state.leader !== null && state.leader !== self && live.has(state.leader)) return undefined;
  if (state.isr.length > 0 && !state.isr.includes(self)) return undefined;
  const isr = [...new Set([...state.isr.filter((id) => live.has(id)), self])].sort();
  return { epoch: state.epoch + 1, leader: self, isr };
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
  const incarnations = { ...state.incarnations };
  let isr: string[];
  if ('add' in change) {
    const { id, incarnation } = change.add;
    isr = [...new Set([...state.isr, id])].sort();
    if (incarnation === undefined) delete incarnations[id];
    else incarnations[id] = incarnation;
  } else {
    isr = state.isr.filter((member) => member !== change.remove);
    delete incarnations[change.remove];
  }
  return Object.keys(incarnations).length > 0 ? { ...state, isr, incarnations } : { epoch: state.epoch, leader: state.leader, isr };
}
