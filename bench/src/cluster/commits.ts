import { scrapeMetrics } from '@kvstore/testkit/harness';
import type { Tracked } from './cpu';

/** The replica kinds whose group commits a row reports. */
const REPLICA_KINDS = ['leader', 'followers'] as const;
type ReplicaKind = (typeof REPLICA_KINDS)[number];

/** Group commits (fsync'd LMDB transactions) by replica kind over a row, and how many replicas of each kind made them. */
export type Commits = Partial<Record<ReplicaKind, { commits: number; replicas: number }>>;

/** Requests per group commit of one replica, by kind (followers: the mean of them): how far the write path batched. */
export type RequestsPerCommit = Partial<Record<ReplicaKind, number>>;

/** A replica's group commits so far (one observation of kvstore_storage_fsync_batch_writes each); undefined when it cannot say (gone, refused). */
async function commitsSoFar({ baseUrl, token }: NonNullable<Tracked['metrics']>): Promise<number | undefined> {
  try {
    return (await scrapeMetrics(baseUrl, token)).sum('kvstore_storage_fsync_batch_writes_count');
  } catch {
    return undefined;
  }
}

/**
 * Starts counting the group commits of every tracked replica that has a
 * /metrics; the returned function gives them by kind since. A kind is left
 * out if any of its replicas could not be read at either end.
 */
export async function startCommitMeter(processes: Tracked[]): Promise<() => Promise<Commits>> {
  const replicas = processes.filter((tracked): tracked is Tracked & { kind: ReplicaKind; metrics: NonNullable<Tracked['metrics']> } =>
    tracked.metrics !== undefined && (REPLICA_KINDS as readonly string[]).includes(tracked.kind),
  );
  const before = await Promise.all(replicas.map((tracked) => commitsSoFar(tracked.metrics)));
  return async () => {
    const after = await Promise.all(replicas.map((tracked) => commitsSoFar(tracked.metrics)));
    const commits: Commits = {};
    const unreadable = new Set<ReplicaKind>();
    replicas.forEach((tracked, index) => {
      const [start, end] = [before[index], after[index]];
      if (start === undefined || end === undefined) {
        unreadable.add(tracked.kind);
        return;
      }
      const sum = commits[tracked.kind] ?? { commits: 0, replicas: 0 };
      commits[tracked.kind] = { commits: sum.commits + (end - start), replicas: sum.replicas + 1 };
    });
    for (const kind of unreadable) delete commits[kind];
    return commits;
  };
}

/** Requests per commit of one replica of each kind; a kind that made no commit (a read-only row) is left out. */
export function requestsPerCommit(commits: Commits, requests: number): RequestsPerCommit {
  const per: RequestsPerCommit = {};
  for (const kind of REPLICA_KINDS) {
    const made = commits[kind];
    if (made && made.commits > 0) per[kind] = (requests * made.replicas) / made.commits;
  }
  return per;
}
