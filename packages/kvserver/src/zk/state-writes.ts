import { ZkError, type Versioned, type ZkOp } from '@kvstore/cluster';
import { RecordError, encodeRecord, parseLeader, parseState } from '@kvstore/protocol';
import { applyIsrChange, decideHandOver, decideResign, decideStepAside } from '../replication/election';
import { DeposedError, type IsrChange, type Member } from '../replication/types';
import type { PartitionNodes } from './partition-nodes';

/*
 * The writes of `/state` (and of this replica's `/leader` node): each reads,
 * decides, and writes by compare-and-set, again while another writer got
 * there first.
 */

const MAX_ATTEMPTS = 20;

async function compareAndSet<T>(nodes: PartitionNodes, what: string, attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; n < MAX_ATTEMPTS; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ZkError && (error.code === 'BAD_VERSION' || error.code === 'NO_NODE'))) throw error;
    }
  }
  throw new ZkError('OTHER', `could not ${what} at ${nodes.statePath}: too much contention`);
}

/** The leader's in-sync set change (IsrCoordination.updateIsr): DeposedError once `/state` no longer names it leader at `epoch`. */
export function updateIsr(nodes: PartitionNodes, epoch: number, change: IsrChange): Promise<string[]> {
  const { session, self, statePath } = nodes;
  return compareAndSet(nodes, 'change the in-sync set', async () => {
    const node = await session.getData(statePath);
    const state = node && parseState(node.data);
    if (!node || !state || state.epoch !== epoch || state.leader !== self.id) {
      throw new DeposedError(`state is now epoch ${state?.epoch} led by ${state?.leader}`);
    }
    const next = applyIsrChange(state, change);
    const isr = [...new Set([...next.isr, self.id])].sort();
    await session.setData(statePath, encodeRecord({ ...next, isr }), node.version);
    return isr;
  });
}

/**
 * A planned transfer (IsrCoordination.handOver): in one multi, `/state`
 * names no leader and `transferTo: target` (at the version read), the
 * target's member node is checked (it has not restarted or left), and this
 * leader's `/leader` node goes, so that the target's campaign starts at once.
 */
export function handOver(nodes: PartitionNodes, epoch: number, target: Member): Promise<void> {
  const { session, self, statePath, leaderPath, membersPath } = nodes;
  const targetNode = target.incarnation === undefined ? undefined : `${membersPath}/${target.incarnation}`;
  return compareAndSet(nodes, 'hand the lead over', async () => {
    const stateNode = await session.getData(statePath);
    const state = stateNode && parseState(stateNode.data);
    if (!stateNode || !state || state.epoch !== epoch || state.leader !== self.id) {
      throw new DeposedError(`state is now epoch ${state?.epoch} led by ${state?.leader}`);
    }
    const next = decideHandOver(self.id, epoch, target.id, state);
    if (!next) throw new Error(`${target.id} is not in the in-sync set`);
    if (targetNode !== undefined && !(await session.getData(targetNode))) throw new Error(`${target.id} is no longer registered as ${target.incarnation}`);
    const ops: ZkOp[] = [{ op: 'setData', path: statePath, data: encodeRecord(next), version: stateNode.version }];
    if (targetNode !== undefined) ops.push({ op: 'check', path: targetNode });
    const leaderNode = await session.getData(leaderPath);
    const ours = leaderNode && parsed(leaderNode, parseLeader, (leader) => leader.id === self.id && leader.epoch === epoch);
    if (leaderNode && ours) ops.push({ op: 'remove', path: leaderPath, version: leaderNode.version });
    await session.multi(ops);
  });
}

/** Leaves the in-sync set (a replica whose data is gone). Resolves to the new set, or undefined when there was nothing to change. */
export function resign(nodes: PartitionNodes): Promise<string[] | undefined> {
  const { session, self, statePath } = nodes;
  return compareAndSet(nodes, 'resign', async () => {
    const node = await session.getData(statePath);
    const next = node && decideResign(self.id, parseState(node.data));
    if (!node || !next) return undefined;
    await session.setData(statePath, encodeRecord(next), node.version);
    return next.isr;
  });
}

/**
 * This replica no longer leads `epoch`: in one multi, `/state` stops naming
 * it (if it still does, at that epoch) and its `/leader` node of that epoch
 * goes (if it is still there, at the version read), so a new election can
 * happen. A malformed `/state` or `/leader` is left as it is.
 */
export function stepAside(nodes: PartitionNodes, epoch: number): Promise<void> {
  const { session, self, statePath, leaderPath } = nodes;
  return compareAndSet(nodes, 'step aside', async () => {
    const stateNode = await session.getData(statePath);
    const leaderNode = await session.getData(leaderPath);
    const ops: ZkOp[] = [];
    const next = stateNode && parsed(stateNode, parseState, (state) => decideStepAside(self.id, epoch, state));
    if (stateNode && next) ops.push({ op: 'setData', path: statePath, data: encodeRecord(next), version: stateNode.version });
    const ours = leaderNode && parsed(leaderNode, parseLeader, (leader) => leader.id === self.id && leader.epoch === epoch);
    if (leaderNode && ours) ops.push({ op: 'remove', path: leaderPath, version: leaderNode.version });
    if (ops.length > 0) await session.multi(ops);
  });
}

/** `use` of the node's record, or undefined when the record is malformed (its watch reports that). */
function parsed<R, T>(node: Versioned, parse: (data: Buffer) => R, use: (record: R) => T): T | undefined {
  try {
    return use(parse(node.data));
  } catch (error) {
    if (error instanceof RecordError) return undefined;
    throw error;
  }
}
