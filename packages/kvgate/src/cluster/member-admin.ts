import { ZkError, type ClusterAuth, type ZkClient } from '@kvstore/cluster';
import {
  KvError,
  clusterPaths,
  encodeRecord,
  errorFromAnswer,
  notFound,
  parseState,
  restoreMember,
  timeout,
  unavailable,
  type LeaderTransferResult,
  type MemberChangeResult,
  type StateRecord,
} from '@kvstore/protocol';
import { currentLeader, type Endpoint } from '../routing/routing-table';
import type { ClusterSnapshot } from '../routing/snapshot';

/** How long past the handover the gate waits to see the new leader's `/leader` node. */
const ELECTION_WAIT_MS = 5000;
/** Compare-and-set attempts on `/state` before giving up on a restore. */
const MAX_ATTEMPTS = 20;

/** Planned leader transfers and maintenance of in-sync members (docs/api.md, "Leadership and members"). */
export interface MemberAdmin {
  transferLeader(partition: string, to: string | undefined, timeoutMs: number): Promise<LeaderTransferResult>;
  removeMember(partition: string, id: string): Promise<MemberChangeResult>;
  restoreMember(partition: string, id: string): Promise<MemberChangeResult>;
}

export interface MemberAdminDeps {
  cluster: string;
  /** The session to write on; throws UNAVAILABLE while there is none. */
  zookeeper(): ZkClient;
  snapshot(): ClusterSnapshot;
  /** Resolves at the next change of the snapshot, or after `timeoutMs`. */
  changed(timeoutMs: number): Promise<void>;
  auth: ClusterAuth;
  now?: () => number;
}

/**
 * The gate's side: a transfer and a removal are the leader's to make (it
 * knows how far its followers are and its --min-insync), so the gate relays
 * them to the leader's internal routes; a restore is one compare-and-set on
 * `/state`, which needs no leader (the excluded replica may be the only one
 * left).
 */
export function memberAdmin(deps: MemberAdminDeps): MemberAdmin {
  const now = deps.now ?? Date.now;
  const paths = clusterPaths(deps.cluster);

  const leaderOf = (partition: string): Endpoint => {
    const records = deps.snapshot().partitions.get(partition);
    if (!records) throw notFound(`no partition ${partition}`);
    const leader = currentLeader(records);
    if (!leader) throw unavailable(`partition ${partition} has no leader`);
    return leader;
  };

  const relay = async (leader: Endpoint, path: string, timeoutMs: number): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(`${leader.url.replace(/\/+$/, '')}${path}`, {
        method: 'POST',
        headers: deps.auth.headersFor('POST', path),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // Sent, and no answer in time: it may have happened.
      if ((error as Error).name === 'TimeoutError') throw timeout(`leader ${leader.id} did not answer within ${timeoutMs} ms; the outcome is unknown`);
      throw unavailable(`leader ${leader.id} did not answer: ${(error as Error).message}`, error);
    }
    const body = Buffer.from(await response.arrayBuffer());
    if (!response.ok) throw errorFromAnswer(response.status, body, `replica ${leader.id}`);
    return JSON.parse(body.toString('utf8')) as unknown;
  };

  const readState = async (partition: string): Promise<{ state: StateRecord; version: number }> => {
    const node = await deps.zookeeper().getData(paths.state(partition));
    if (!node) throw notFound(`no partition ${partition}`);
    return { state: parseState(node.data), version: node.version };
  };

  const changeResult = async (partition: string, member: string): Promise<MemberChangeResult> => {
    const { state } = await readState(partition);
    return { partition, member, isr: state.isr, excluded: state.excluded ?? [] };
  };

  return {
    async transferLeader(partition, to, timeoutMs) {
      const leader = leaderOf(partition);
      const query = new URLSearchParams({ ...(to === undefined ? {} : { to }), timeoutMs: String(timeoutMs) });
      const answer = (await relay(leader, `/internal/leader-transfer?${query.toString()}`, timeoutMs + ELECTION_WAIT_MS)) as { from: string; to: string; epoch: number };
      // The target campaigns as soon as it sees the old `/leader` node go: wait to route to it.
      const deadline = now() + ELECTION_WAIT_MS;
      for (;;) {
        const records = deps.snapshot().partitions.get(partition);
        const current = currentLeader(records);
        const epoch = records?.leader?.epoch ?? 0;
        if (current && epoch > answer.epoch) {
          if (current.id !== answer.to) throw new KvError('CONFLICT', `${answer.from} handed the lead to ${answer.to}, but ${current.id} won epoch ${epoch}`);
          return { partition, from: answer.from, to: answer.to, epoch };
        }
        const remaining = deadline - now();
        if (remaining <= 0) throw unavailable(`${answer.from} handed the lead to ${answer.to}, which has not taken it within ${ELECTION_WAIT_MS} ms`);
        await deps.changed(remaining);
      }
    },

    async removeMember(partition, id) {
      await relay(leaderOf(partition), `/internal/members/${encodeURIComponent(id)}/remove`, 10_000);
      return changeResult(partition, id);
    },

    async restoreMember(partition, id) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const { state, version } = await readState(partition);
        const next = restoreMember(state, id);
        if (!next) {
          const known = state.isr.includes(id) || deps.snapshot().partitions.get(partition)?.members.some((member) => member.id === id);
          if (!known) throw notFound(`${id} is not a member of partition ${partition}`);
          return { partition, member: id, isr: state.isr, excluded: state.excluded ?? [] };
        }
        try {
          await deps.zookeeper().setData(paths.state(partition), encodeRecord(next), version);
          return { partition, member: id, isr: next.isr, excluded: next.excluded ?? [] };
        } catch (error) {
          if (!(error instanceof ZkError && error.code === 'BAD_VERSION')) throw error;
        }
      }
      throw unavailable(`could not restore ${id}: /state kept changing`);
    },
  };
}
