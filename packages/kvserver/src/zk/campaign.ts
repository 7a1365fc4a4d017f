import { ZkError, type ZkErrorCode } from '@kvstore/cluster';
import { encodeRecord, parseState, type StateRecord } from '@kvstore/protocol';
import { decideCampaign, isHandedOverTo } from '../replication/election';
import { readLiveMembers } from './member-list';
import type { PartitionNodes } from './partition-nodes';

/** A multi that fails with one of these lost the race (or this replica is no longer a member): nothing was written. */
const LOST: ReadonlySet<ZkErrorCode> = new Set(['NO_NODE', 'BAD_VERSION', 'NODE_EXISTS']);

/**
 * One attempt to become leader. Reads `/state`, `/leader` and the members
 * afresh (a cached member list may be stale), asks decideCampaign, and
 * writes in one multi: this replica's member node still exists, `/state`
 * is still at the version read, and `/leader` is created for the new
 * epoch. So an epoch is won only by a live member, and never without its
 * leader node. Resolves to the state written, and whether the lead was
 * handed to this replica by a planned transfer (the state it replaced
 * named it `transferTo`); or undefined when this replica may not lead or
 * lost the race. A malformed `/state` throws RecordError.
 */
export async function campaign(nodes: PartitionNodes, memberNode: string, epochSeen: number): Promise<{ next: StateRecord; handedOver: boolean } | undefined> {
  const { session, self, statePath, leaderPath, membersPath } = nodes;
  const stateNode = await session.getData(statePath);
  if (!stateNode) return undefined;
  const state = parseState(stateNode.data);
  const leaderNodeExists = (await session.getData(leaderPath)) !== undefined;
  const live = (await readLiveMembers(session, membersPath)).filter((member) => member.id !== self.id);
  const liveIncarnations: Record<string, string> = { [self.id]: memberNode };
  for (const member of live) if (member.incarnation) liveIncarnations[member.id] = member.incarnation;
  const next = decideCampaign({
    self: self.id,
    state,
    liveMembers: [self.id, ...live.map((member) => member.id)],
    liveIncarnations,
    leaderNodeExists,
    epochSeen,
  });
  if (!next) return undefined;
  try {
    await session.multi([
      { op: 'check', path: `${membersPath}/${memberNode}` },
      { op: 'setData', path: statePath, data: encodeRecord(next), version: stateNode.version },
      { op: 'create', path: leaderPath, data: encodeRecord({ id: self.id, url: self.url, epoch: next.epoch }), mode: 'ephemeral' },
    ]);
    return { next, handedOver: isHandedOverTo(self.id, state) };
  } catch (error) {
    if (error instanceof ZkError && LOST.has(error.code)) return undefined;
    throw error;
  }
}
