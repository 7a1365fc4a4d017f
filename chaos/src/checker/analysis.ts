/**
 * The whole check of a chaos run: counts, named anomalies, per-key
 * linearizability and availability, as one plain-JSON report.
 */
import type { History, HistoryOperation, OperationKind, Outcome } from '../history';
import { findAnomalies, type LostWrite, type NeverWrittenRead, type StaleRead } from './anomalies';
import { measureAvailability, type Availability, type AvailabilityOptions } from './availability';
import { checkLinearizability, type LinearizabilityOptions, type Violation } from './linearizability';

export { formatReport } from './format';

export interface CheckOptions extends LinearizabilityOptions, AvailabilityOptions {
  /** At most this many items per list in the report (counts stay exact). Default 50. */
  maxListed?: number;
  /**
   * The cluster's replication mode. In async mode a failover may lose an
   * acknowledged write, so every acknowledged write, cas or delete is checked
   * as "maybe applied, by its acknowledgement" (history.ts, Outcome); strong
   * reads must still be linearizable. Default sync.
   */
  replication?: 'sync' | 'async';
}

/** Exact count, first `maxListed` items. */
export interface Listed<T> {
  count: number;
  items: T[];
}

export interface Report {
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** No lost write, stale read, never-written read or linearizability violation. Keys left 'unknown' do not count against it. */
  valid: boolean;
  operations: { total: number; byKind: Record<OperationKind, Record<Outcome, number>> };
  /** Writes and cas ops acknowledged to the client. */
  acknowledgedWrites: number;
  lostWrites: Listed<LostWrite> & { atEnd: number };
  staleReads: Listed<StaleRead>;
  neverWritten: Listed<NeverWrittenRead>;
  linearizability: {
    keys: number;
    linearizable: number;
    violations: Listed<Violation>;
    /** Keys whose search exceeded its budget. */
    unknown: Listed<{ key: string; operations: number; steps: number }>;
    steps: number;
    elapsedMs: number;
  };
  availability: Availability;
}

export function checkHistory(history: History, options: CheckOptions = {}): Report {
  const maxListed = options.maxListed ?? 50;
  const list = <T>(items: readonly T[]): Listed<T> => ({ count: items.length, items: items.slice(0, maxListed) });

  const byKind = {} as Record<OperationKind, Record<Outcome, number>>;
  for (const kind of OPERATION_KINDS) byKind[kind] = { ok: 0, fail: 0, unknown: 0 };
  for (const op of history.operations) byKind[op.kind][op.outcome]++;

  const checked = options.replication === 'async' ? history.operations.map(mayBeLost) : history.operations;
  const anomalies = findAnomalies(checked);
  const linearizability = checkLinearizability(checked, { origin: history.startedAt, ...options });
  const lostAtEnd = anomalies.lostWrites.filter((l) => l.atEnd);

  return {
    startedAt: history.startedAt,
    endedAt: history.endedAt,
    durationMs: history.endedAt - history.startedAt,
    valid:
      anomalies.lostWrites.length === 0 &&
      anomalies.staleReads.length === 0 &&
      anomalies.neverWritten.length === 0 &&
      linearizability.violations.length === 0,
    operations: { total: history.operations.length, byKind },
    acknowledgedWrites: byKind.write.ok + byKind.cas.ok + byKind.delete.ok,
    // Losses that survived to the final reads first: they matter most.
    lostWrites: { ...list([...lostAtEnd, ...anomalies.lostWrites.filter((l) => !l.atEnd)]), atEnd: lostAtEnd.length },
    staleReads: list(anomalies.staleReads),
    neverWritten: list(anomalies.neverWritten),
    linearizability: {
      keys: linearizability.keys,
      linearizable: linearizability.linearizable,
      violations: list(linearizability.violations),
      unknown: list(linearizability.unknown),
      steps: linearizability.steps,
      elapsedMs: linearizability.elapsedMs,
    },
    availability: measureAvailability(history, options),
  };
}

const OPERATION_KINDS: readonly OperationKind[] = ['read', 'write', 'cas', 'delete'];

/** An acknowledged write in async mode: it may have been lost, but if it took effect, it did by its acknowledgement. */
function mayBeLost(op: HistoryOperation): HistoryOperation {
  if (op.kind === 'read' || op.outcome !== 'ok') return op;
  return { ...op, outcome: 'unknown', detail: `${op.detail ?? 'ok'}, async: may be lost` };
}
