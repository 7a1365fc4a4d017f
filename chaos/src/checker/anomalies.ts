/**
 * Direct checks that name the anomaly, alongside the linearizability search
 * (which only says "no valid order exists"): stale reads, lost acknowledged
 * writes, and reads of values nobody wrote.
 *
 * They rely only on real-time order between acknowledged operations, so each
 * finding is a certain violation, never a guess. Writes with unknown outcome
 * have no completion time, so a read of their value is never judged stale
 * here (the linearizability search still covers it). A read of "absent"
 * after an acknowledged write is wrong on a key that nothing can make absent
 * again; on a key with deletes or TTL'd writes it is left to the search.
 */
import type { HistoryOperation } from '../history';

export interface StaleRead {
  read: HistoryOperation;
  /** The write whose value the read returned (undefined: it returned absent). */
  returned?: HistoryOperation;
  /** An acknowledged write that started after `returned` completed and completed before the read started. */
  newer: HistoryOperation;
}

export interface LostWrite {
  write: HistoryOperation;
  /** A read, started after the write completed, that returned an older value (or absent). */
  read: HistoryOperation;
  /** The witness is the key's last acknowledged read (the final read after healing): the write is gone for good. */
  atEnd: boolean;
}

export interface NeverWrittenRead {
  read: HistoryOperation;
}

export interface Anomalies {
  staleReads: StaleRead[];
  lostWrites: LostWrite[];
  neverWritten: NeverWrittenRead[];
}

export function findAnomalies(operations: readonly HistoryOperation[]): Anomalies {
  const byKey = new Map<string, HistoryOperation[]>();
  for (const op of operations) {
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [op]);
    else list.push(op);
  }
  const found: Anomalies = { staleReads: [], lostWrites: [], neverWritten: [] };
  for (const ops of byKey.values()) checkKeyAnomalies(ops, found);
  return found;
}

function checkKeyAnomalies(ops: readonly HistoryOperation[], found: Anomalies): void {
  // Any write of the key counts as a source, whatever its outcome: a value
  // from a failed write is the search's business; a value from none is never right.
  const writerOf = new Map<string, HistoryOperation>();
  for (const op of ops) if (op.kind !== 'read' && op.value !== undefined) writerOf.set(op.value, op);

  // Acknowledged writes by completion time, with the latest invocation among
  // each prefix: "is there a write that began after t and ended before u?"
  // becomes one binary search.
  const acked = ops
    .filter((op) => op.kind !== 'read' && op.outcome === 'ok' && op.completedAt !== undefined)
    .sort((a, b) => a.completedAt! - b.completedAt!);
  const latestStart: number[] = [];
  for (const w of acked) latestStart.push(Math.max(latestStart.at(-1) ?? -Infinity, w.invokedAt));

  const reads = ops.filter((op) => op.kind === 'read' && op.outcome === 'ok');
  const absenceHasCauses = ops.some((op) => op.outcome !== 'fail' && (op.kind === 'delete' || op.ttlSeconds !== undefined));
  const finalRead = reads.reduce<HistoryOperation | undefined>((a, r) => (a === undefined || r.invokedAt > a.invokedAt ? r : a), undefined);
  const lost = new Map<HistoryOperation, LostWrite>();

  for (const read of reads) {
    const value = read.result ?? null;
    const returned = value === null ? undefined : writerOf.get(value);
    if (value !== null && returned === undefined) {
      found.neverWritten.push({ read });
      continue;
    }
    // Only an acknowledged write has a known end; absent "was written" at -∞.
    if (returned !== undefined && (returned.outcome !== 'ok' || returned.completedAt === undefined)) continue;
    if (value === null && absenceHasCauses) continue;
    const since = returned?.completedAt ?? -Infinity;
    const before = countCompletedBefore(acked, read.invokedAt);
    if (before === 0 || latestStart[before - 1] <= since) continue;

    const overwriting = acked.slice(0, before).filter((w) => w.invokedAt > since);
    found.staleReads.push({ read, returned, newer: overwriting[overwriting.length - 1] });
    for (const write of overwriting) {
      const atEnd = read === finalRead;
      const known = lost.get(write);
      if (known === undefined || (atEnd && !known.atEnd)) lost.set(write, { write, read, atEnd });
    }
  }
  found.lostWrites.push(...[...lost.values()].sort((a, b) => a.write.invokedAt - b.write.invokedAt));
}

/** How many of `acked` (sorted by completion) completed strictly before `t`. */
function countCompletedBefore(acked: readonly HistoryOperation[], t: number): number {
  let lo = 0;
  let hi = acked.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (acked[mid].completedAt! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
