import type { ReplicationLog } from './log';
import type { AppendRequest, AppendResponse } from './messages';

export interface AppendOutcome {
  response: AppendResponse;
  /** Entries up to here are committed and may be applied. */
  commitTo: number;
}

/**
 * The follower's half of log matching (as in Raft's AppendEntries): accept
 * entries only after a point where both logs agree, and cut off any
 * unacknowledged tail of an old epoch that the leader does not have.
 * Entries up to `appliedSeq` are committed and can never conflict.
 */
export function acceptAppend(log: ReplicationLog, appliedSeq: number, request: AppendRequest): AppendOutcome {
  const { prevSeq, prevEpoch, entries, epoch } = request;
  const refuse = (lastSeq: number): AppendOutcome => ({
    response: { ok: false, reason: 'mismatch', epoch, lastSeq },
    commitTo: appliedSeq,
  });

  if (prevSeq > log.lastSeq) return refuse(log.lastSeq);
  // At or below the base the entry is folded into the state: committed, so it matches.
  if (prevSeq > log.baseSeq && log.epochAt(prevSeq) !== prevEpoch) return refuse(prevSeq - 1);
  if (prevSeq === log.baseSeq && prevSeq > appliedSeq && log.baseEpoch !== prevEpoch) return refuse(prevSeq - 1);

  for (const entry of entries) {
    if (entry.seq <= log.baseSeq) continue;
    const existing = log.epochAt(entry.seq);
    if (existing === entry.epoch) continue;
    if (existing !== undefined) {
      if (entry.seq <= appliedSeq) throw new Error(`leader conflicts with committed entry ${entry.seq}`);
      log.truncateFrom(entry.seq);
    }
    log.append([entry]);
  }

  const matchSeq = entries.length > 0 ? entries[entries.length - 1]!.seq : prevSeq;
  return {
    response: { ok: true, epoch, matchSeq },
    commitTo: Math.max(appliedSeq, Math.min(request.commitSeq, matchSeq)),
  };
}
