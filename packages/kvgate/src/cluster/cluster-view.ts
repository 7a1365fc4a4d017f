import type { ClusterAuth, RecordProblem } from '@kvstore/cluster';
import type { ClusterView, MemberView, PartitionView } from '@kvstore/protocol';
import { currentLeader } from '../routing/routing-table';
import { NO_MIGRATION, type ClusterSnapshot, type PartitionRecords } from '../routing/snapshot';
import { summarize, type RingSummary } from './ring-summary';

export interface ReplicaStatus {
  lastSeq: number;
  /** How many keys the replica holds; undefined when it did not say. */
  keys?: number;
}

/** Asks one replica for its status; undefined when it does not answer in time. */
export type StatusFetcher = (url: string) => Promise<ReplicaStatus | undefined>;

/**
 * `GET /v1/cluster`: the watcher's records plus each member's last sequence
 * number, fetched in parallel, the ring's slots per partition and the
 * migration (`summary`), and the malformed records the watcher holds the
 * last good ones of. Roles come from the leader record, so the view agrees
 * with where the gate routes.
 */
export async function buildClusterView(
  cluster: string,
  snapshot: ClusterSnapshot,
  fetchStatus: StatusFetcher,
  problems: readonly RecordProblem[] = [],
  summary: RingSummary = summarize(snapshot.ring, NO_MIGRATION, Date.now()),
): Promise<ClusterView> {
  const names = [...new Set([...summary.ring.partitions, ...snapshot.partitions.keys()])].sort();
  const partitions = await Promise.all(names.map((name) => partitionView(name, snapshot.partitions.get(name), fetchStatus)));
  return {
    cluster,
    ring: summary.ring,
    migration: summary.migration,
    partitions,
    problems: problems.map(({ path, error }) => ({ path, error })),
  };
}

async function partitionView(name: string, records: PartitionRecords | undefined, fetchStatus: StatusFetcher): Promise<PartitionView> {
  const leader = currentLeader(records);
  const members = [...(records?.members ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const statuses = await Promise.all(members.map((member) => fetchStatus(member.url).catch(() => undefined)));
  const leaderIndex = members.findIndex((member) => member.id === leader?.id);
  const leaderSeq = leaderIndex >= 0 ? statuses[leaderIndex]?.lastSeq : undefined;
  const views: MemberView[] = members.map((member, index) => {
    const lastSeq = statuses[index]?.lastSeq ?? null;
    return {
      id: member.id,
      url: member.url,
      role: member.id === leader?.id ? 'leader' : 'follower',
      lastSeq,
      lag: lastSeq === null || leaderSeq === undefined ? null : Math.max(0, leaderSeq - lastSeq),
    };
  });
  const excluded = records?.state?.excluded;
  return {
    name,
    epoch: records?.state?.epoch ?? records?.leader?.epoch ?? 0,
    leader: leader?.id ?? null,
    isr: [...(records?.state?.isr ?? [])],
    ...(excluded ? { excluded: [...excluded] } : {}),
    members: views,
  };
}

const STATUS_PATH = '/internal/status';

/** Fetches `<url>/internal/status` (proving the cluster secret) with a short timeout; any failure or odd answer is "unknown". */
export function httpStatusFetcher(timeoutMs: number, auth: ClusterAuth): StatusFetcher {
  return async (url) => {
    try {
      const response = await fetch(`${url.replace(/\/+$/, '')}${STATUS_PATH}`, {
        headers: auth.headersFor('GET', STATUS_PATH),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) return undefined;
      const body = (await response.json()) as { lastSeq?: unknown; keys?: unknown };
      if (!Number.isSafeInteger(body.lastSeq)) return undefined;
      return Number.isSafeInteger(body.keys) ? { lastSeq: body.lastSeq as number, keys: body.keys as number } : { lastSeq: body.lastSeq as number };
    } catch {
      return undefined;
    }
  };
}
