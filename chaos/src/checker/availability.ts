/**
 * Availability: how long each partition went without a successful operation,
 * overall and around each fault, plus a throughput timeline for the picture.
 * An operation "succeeds" when it is acknowledged (ok), at its completion time.
 */
import type { FaultEvent, History, HistoryOperation } from '../history';

export interface Gap {
  from: number;
  to: number;
  ms: number;
}

export interface PartitionAvailability {
  /** A partition name, or '*' for all operations together. */
  partition: string;
  okOps: number;
  longestGap: Gap;
}

export interface FaultAvailability {
  fault: FaultEvent;
  /** The window examined: the fault's start to `tailMs` after it healed (or the run's end). */
  windowFrom: number;
  windowTo: number;
  okOps: number;
  longestGap: Gap;
  /** From the heal to the first success after it; undefined if never healed or no success in the window. */
  recoveredAfterMs?: number;
}

export interface FaultKindAvailability {
  kind: string;
  faults: number;
  maxGapMs: number;
  meanGapMs: number;
  /** Worst heal-to-first-success time among the faults of this kind that healed and recovered. */
  maxRecoveryMs?: number;
}

export interface Timeline {
  startedAt: number;
  bucketMs: number;
  /** Acknowledged operations per second in each bucket, per partition and under '*' for all. */
  okPerSecond: Record<string, number[]>;
  /** Failed or unknown operations per second in each bucket (all partitions). */
  notOkPerSecond: number[];
}

export interface Availability {
  partitions: PartitionAvailability[];
  faults: FaultAvailability[];
  byFaultKind: FaultKindAvailability[];
  timeline: Timeline;
}

export interface AvailabilityOptions {
  /** How long after a fault heals its window extends. Default 10 000 ms. */
  faultTailMs?: number;
  /** Timeline bucket width. Default 1000 ms. */
  bucketMs?: number;
}

const ALL = '*';

export function measureAvailability(history: History, options: AvailabilityOptions = {}): Availability {
  const tailMs = options.faultTailMs ?? 10_000;
  const successes = successTimes(history.operations);
  const partitions = [...successes.keys()].sort().map((partition) => ({
    partition,
    okOps: successes.get(partition)!.length,
    longestGap: longestGap(successes.get(partition)!, history.startedAt, history.endedAt),
  }));

  const faults = history.faults.map((fault): FaultAvailability => {
    const times = successes.get(fault.partition ?? ALL) ?? [];
    const windowFrom = fault.startedAt;
    const windowTo = Math.min(history.endedAt, (fault.endedAt ?? history.endedAt) + tailMs);
    const first = lowerBound(times, windowFrom);
    const end = lowerBound(times, windowTo, true);
    const result: FaultAvailability = { fault, windowFrom, windowTo, okOps: end - first, longestGap: longestGap(times, windowFrom, windowTo) };
    if (fault.endedAt !== undefined) {
      const recovered = times[lowerBound(times, fault.endedAt)];
      if (recovered !== undefined && recovered <= windowTo) result.recoveredAfterMs = recovered - fault.endedAt;
    }
    return result;
  });

  return { partitions, faults, byFaultKind: summariseByKind(faults), timeline: timeline(history, options.bucketMs ?? 1000) };
}

/** Sorted completion times of acknowledged operations, per partition and under ALL. */
function successTimes(ops: readonly HistoryOperation[]): Map<string, number[]> {
  const times = new Map<string, number[]>([[ALL, []]]);
  for (const op of ops) {
    if (op.outcome !== 'ok' || op.completedAt === undefined) continue;
    times.get(ALL)!.push(op.completedAt);
    if (op.partition === undefined) continue;
    const list = times.get(op.partition);
    if (list === undefined) times.set(op.partition, [op.completedAt]);
    else list.push(op.completedAt);
  }
  for (const list of times.values()) list.sort((a, b) => a - b);
  return times;
}

/** The longest interval inside [from, to] containing no time of `sorted`. */
export function longestGap(sorted: readonly number[], from: number, to: number): Gap {
  let best: Gap = { from, to: from, ms: 0 };
  let previous = from;
  const consider = (t: number): void => {
    if (t - previous > best.ms) best = { from: previous, to: t, ms: t - previous };
    previous = t;
  };
  for (let i = lowerBound(sorted, from); i < sorted.length && sorted[i] <= to; i++) consider(sorted[i]);
  consider(to);
  return best;
}

/** First index whose time is ≥ t (or > t when `after`). */
function lowerBound(sorted: readonly number[], t: number, after = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < t || (after && sorted[mid] === t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function summariseByKind(faults: readonly FaultAvailability[]): FaultKindAvailability[] {
  const kinds = new Map<string, FaultAvailability[]>();
  for (const f of faults) {
    const list = kinds.get(f.fault.kind);
    if (list === undefined) kinds.set(f.fault.kind, [f]);
    else list.push(f);
  }
  return [...kinds].map(([kind, list]) => {
    const gaps = list.map((f) => f.longestGap.ms);
    const recoveries = list.flatMap((f) => (f.recoveredAfterMs === undefined ? [] : [f.recoveredAfterMs]));
    const summary: FaultKindAvailability = {
      kind,
      faults: list.length,
      maxGapMs: Math.max(...gaps),
      meanGapMs: Math.round(gaps.reduce((a, b) => a + b, 0) / gaps.length),
    };
    if (recoveries.length > 0) summary.maxRecoveryMs = Math.max(...recoveries);
    return summary;
  });
}

function timeline(history: History, bucketMs: number): Timeline {
  const buckets = Math.max(1, Math.ceil((history.endedAt - history.startedAt) / bucketMs));
  const perSecond = 1000 / bucketMs;
  const index = (t: number): number => Math.min(buckets - 1, Math.max(0, Math.floor((t - history.startedAt) / bucketMs)));
  const okPerSecond: Record<string, number[]> = { [ALL]: new Array<number>(buckets).fill(0) };
  const notOkPerSecond = new Array<number>(buckets).fill(0);
  for (const op of history.operations) {
    if (op.outcome !== 'ok' || op.completedAt === undefined) {
      notOkPerSecond[index(op.completedAt ?? op.invokedAt)] += perSecond;
      continue;
    }
    const i = index(op.completedAt);
    okPerSecond[ALL][i] += perSecond;
    if (op.partition !== undefined) {
      const series = (okPerSecond[op.partition] ??= new Array<number>(buckets).fill(0));
      series[i] += perSecond;
    }
  }
  return { startedAt: history.startedAt, bucketMs, okPerSecond, notOkPerSecond };
}
