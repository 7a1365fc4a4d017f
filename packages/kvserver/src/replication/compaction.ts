import { entryBytes } from './entry';
import type { ReplicationLog } from './log';
import type { ReplicationOptions } from './types';

/**
 * When and how far to compact the log. Only entries already in the state
 * (up to `appliedSeq`) may go. The log keeps about half its bounds of
 * recent entries, so a follower that was briefly away catches up from the
 * log; one further behind gets a snapshot.
 */
export function logIsOverBounds(log: ReplicationLog, appliedSeq: number, options: ReplicationOptions): boolean {
  return appliedSeq - log.baseSeq > options.maxLogEntries || (log.bytes > options.maxLogBytes && appliedSeq > log.baseSeq);
}

export function compactionPoint(log: ReplicationLog, appliedSeq: number, options: ReplicationOptions): number {
  let point = Math.max(log.baseSeq, appliedSeq - Math.floor(options.maxLogEntries / 2));
  // Keep at most half the byte bound after the point: walk back from the applied end.
  let kept = 0;
  for (let seq = appliedSeq; seq > point; seq--) {
    kept += entryBytes(log.entryAt(seq)!);
    if (kept > options.maxLogBytes / 2) {
      point = seq;
      break;
    }
  }
  return Math.min(point, appliedSeq);
}
