import type { HistoryOperation } from '../history';
import type { EventualRead } from '../workload/recorder';

export interface EventualReadAnomaly {
  read: EventualRead;
  reason: 'never-written' | 'failed-write' | 'read-before-write';
  /** The write that wrote the value, when there is one. */
  write?: HistoryOperation;
}

export interface EventualReadCheck {
  reads: number;
  ok: number;
  anomalies: EventualReadAnomaly[];
}

/**
 * Eventual reads may be stale, but must return a value some write of that key
 * wrote: not one never written, not one whose write failed (503 / 412: not
 * applied), and not one whose write started after the read ended.
 */
export function checkEventualReads(reads: readonly EventualRead[], operations: readonly HistoryOperation[]): EventualReadCheck {
  const writes = new Map<string, HistoryOperation>();
  for (const op of operations) if ((op.kind === 'write' || op.kind === 'cas') && op.value !== undefined) writes.set(`${op.key}\u0000${op.value}`, op);
  const anomalies: EventualReadAnomaly[] = [];
  let ok = 0;
  for (const read of reads) {
    if (read.outcome !== 'ok') continue;
    ok++;
    if (read.result === null || read.result === undefined) continue;
    const write = writes.get(`${read.key}\u0000${read.result}`);
    if (!write) anomalies.push({ read, reason: 'never-written' });
    else if (write.outcome === 'fail') anomalies.push({ read, reason: 'failed-write', write });
    else if (read.completedAt !== undefined && write.invokedAt > read.completedAt) anomalies.push({ read, reason: 'read-before-write', write });
  }
  return { reads: reads.length, ok, anomalies };
}
