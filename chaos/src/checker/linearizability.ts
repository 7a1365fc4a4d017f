/**
 * Per-key linearizability of a read/write/cas/delete register (initially
 * absent) whose TTL'd values expire (register.ts).
 *
 * Keys are independent registers, so the history is checked one key at a
 * time (P-compositionality): many tiny searches instead of one huge one.
 * Each search has a step budget, so a pathological key is reported
 * 'unknown' rather than hanging the run. A violation is shrunk to a small
 * failing sub-history so a person can see what went wrong.
 */
import type { HistoryOperation } from '../history';
import { describeOperation } from './describe';
import { DEFAULT_TTL_TOLERANCE_MS, isIrrelevant, refusedForPrecondition, toRegisterOps, type PreconditionTest } from './register';
import { searchLinearization, type SearchOutcome, type SearchResult } from './search';

export interface LinearizabilityOptions {
  /** Search budget per key (entries examined); beyond it the key is 'unknown'. Default 3 000 000. */
  maxStepsPerKey?: number;
  /** Budget for shrinking each violation, in search steps. Default 1 000 000. */
  shrinkSteps?: number;
  /** Which failed cas ops were 412s (default: `detail` mentions 412 / PRECONDITION). */
  isPreconditionFailure?: PreconditionTest;
  /** Time origin for the explanations' relative times (e.g. history.startedAt). Default 0. */
  origin?: number;
  /** How far from the nominal time (ttl after the write) an expiry may fall in real time. Default 1000 ms. */
  ttlToleranceMs?: number;
}

export interface Violation {
  key: string;
  /** A failing sub-history of the key, sorted by invocation. */
  operations: HistoryOperation[];
  /** True when removing any one of them (but the last to be invoked, where it goes wrong) makes it linearizable (shrinking finished within budget). */
  minimal: boolean;
  /** All operations of the key the search considered. */
  keyOperations: number;
  explanation: string;
}

export interface KeyVerdict {
  key: string;
  outcome: SearchOutcome;
  /** Operations the search considered (irrelevant ones, e.g. failed reads, excluded). */
  operations: number;
  steps: number;
  violation?: Violation;
}

export interface LinearizabilityResult {
  keys: number;
  linearizable: number;
  violations: Violation[];
  /** Keys whose search ran out of budget: neither proven nor refuted. */
  unknown: { key: string; operations: number; steps: number }[];
  steps: number;
  elapsedMs: number;
}

/** Enough for a lock key of a 10-minute run on a fast host (7,000 operations took 366,000 steps). */
const DEFAULT_MAX_STEPS = 3_000_000;
const DEFAULT_SHRINK_STEPS = 1_000_000;

export function checkLinearizability(
  operations: readonly HistoryOperation[],
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const started = performance.now();
  const byKey = new Map<string, HistoryOperation[]>();
  for (const op of operations) {
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [op]);
    else list.push(op);
  }
  const result: LinearizabilityResult = { keys: byKey.size, linearizable: 0, violations: [], unknown: [], steps: 0, elapsedMs: 0 };
  for (const [key, ops] of byKey) {
    const verdict = checkKey(key, ops, options);
    result.steps += verdict.steps;
    if (verdict.outcome === 'ok') result.linearizable++;
    else if (verdict.outcome === 'unknown') result.unknown.push({ key, operations: verdict.operations, steps: verdict.steps });
    else if (verdict.violation !== undefined) result.violations.push(verdict.violation);
  }
  result.elapsedMs = Math.round(performance.now() - started);
  return result;
}

/** Checks one key's operations; on a violation, shrinks it and explains it. */
export function checkKey(key: string, ops: readonly HistoryOperation[], options: LinearizabilityOptions = {}): KeyVerdict {
  const isPrecondition = options.isPreconditionFailure ?? refusedForPrecondition;
  const relevant = ops.filter((op) => !isIrrelevant(op, isPrecondition));
  const tolerance = options.ttlToleranceMs ?? DEFAULT_TTL_TOLERANCE_MS;
  const search = run(relevant, options.maxStepsPerKey ?? DEFAULT_MAX_STEPS, isPrecondition, tolerance);
  const verdict: KeyVerdict = { key, outcome: search.outcome, operations: relevant.length, steps: search.steps };
  if (search.outcome !== 'violation') return verdict;

  const shrunk = shrink(relevant, options);
  const sorted = [...shrunk.operations].sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id);
  verdict.violation = {
    key,
    operations: sorted,
    minimal: shrunk.minimal,
    keyOperations: relevant.length,
    explanation: explain(key, sorted, relevant.length, options.origin ?? 0, tolerance),
  };
  return verdict;
}

function run(ops: readonly HistoryOperation[], maxSteps: number, isPrecondition: PreconditionTest, ttlToleranceMs: number): SearchResult {
  return searchLinearization(toRegisterOps(ops, isPrecondition, ttlToleranceMs), maxSteps);
}

/**
 * Shrinks a failing history in two steps. First the shortest failing prefix
 * (by invocation, found by bisection): its last operation is where the
 * history first goes wrong. Then delta debugging (ddmin) on that prefix: try
 * removing chunks, halving the chunk size when nothing can go, and keep any
 * removal that still fails and still holds that operation. Without the
 * anchor, a sub-history can fail for a reason the whole history does not
 * have (a 412 whose real cause was removed). A check that runs out of budget
 * counts as "does not fail", so what we keep is always a proven violation.
 * Ends 1-minimal (but for the anchor) unless the budget runs out.
 */
export function shrink(
  ops: readonly HistoryOperation[],
  options: LinearizabilityOptions = {},
): { operations: HistoryOperation[]; minimal: boolean } {
  const isPrecondition = options.isPreconditionFailure ?? refusedForPrecondition;
  const maxSteps = options.maxStepsPerKey ?? DEFAULT_MAX_STEPS;
  const tolerance = options.ttlToleranceMs ?? DEFAULT_TTL_TOLERANCE_MS;
  let budget = options.shrinkSteps ?? DEFAULT_SHRINK_STEPS;
  const fails = (candidate: HistoryOperation[]): boolean => {
    const result = run(candidate, Math.min(maxSteps, Math.max(budget, 1)), isPrecondition, tolerance);
    // Preparing and sorting cost about one step per operation too.
    budget -= result.steps + candidate.length;
    return result.outcome === 'violation';
  };

  const sorted = [...ops].sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id);
  // The whole history fails; the empty prefix does not.
  let passing = 0;
  let failing = sorted.length;
  while (failing - passing > 1 && budget > 0) {
    const middle = (passing + failing) >> 1;
    if (fails(sorted.slice(0, middle))) failing = middle;
    else passing = middle;
  }
  const anchor = sorted[failing - 1];
  let current = sorted.slice(0, failing);
  let chunk = Math.max(1, Math.ceil(current.length / 2));
  while (budget > 0) {
    let removed = false;
    for (let start = 0; start < current.length && budget > 0; ) {
      const candidate = withoutOrphans([...current.slice(0, start), ...current.slice(start + chunk)], ops);
      if (candidate.includes(anchor) && fails(candidate)) {
        current = candidate;
        removed = true;
      } else {
        start += chunk;
      }
    }
    if (budget <= 0) break;
    if (!removed) {
      if (chunk === 1) return { operations: current, minimal: true };
      chunk = Math.ceil(chunk / 2);
    }
    chunk = Math.min(chunk, Math.max(1, Math.ceil(current.length / 2)));
  }
  return { operations: current, minimal: false };
}

/**
 * Removes the operations that saw a value whose write is no longer in the
 * candidate (transitively, for cas chains), and the 412s of `If-None-Match`
 * ("present") with no write left before them. Without this, shrinking a
 * stale read would end at the read alone, "reading a value never written",
 * or at a lone 412 on a register that starts absent: true of the
 * sub-history, but hiding the real story.
 */
function withoutOrphans(candidate: HistoryOperation[], all: readonly HistoryOperation[]): HistoryOperation[] {
  // What the op saw (a read), or needs to have been there (a cas or delete that may have taken effect).
  const sees = (op: HistoryOperation): string | null | undefined =>
    op.kind === 'read' ? (op.outcome === 'ok' ? op.result : undefined) : op.kind === 'write' || op.outcome === 'fail' ? undefined : op.expected;
  // Candidates hold only relevant ops: a failed cas here is a 412.
  const sawPresent = (op: HistoryOperation): boolean => op.kind === 'cas' && op.outcome === 'fail' && (op.expected ?? null) === null;
  const writtenOriginally = new Set(all.map((op) => op.value));
  let kept = candidate;
  for (;;) {
    const written = new Set(kept.map((op) => op.value));
    const firstWrite = Math.min(...kept.filter((op) => op.value !== undefined && op.outcome !== 'fail').map((op) => op.invokedAt));
    const next = kept.filter((op) => {
      if (sawPresent(op)) return firstWrite <= (op.completedAt ?? Infinity);
      const seen = sees(op);
      return seen === undefined || seen === null || written.has(seen) || !writtenOriginally.has(seen);
    });
    if (next.length === kept.length) return kept;
    kept = next;
  }
}

function explain(key: string, ops: readonly HistoryOperation[], keyOperations: number, origin: number, ttlToleranceMs: number): string {
  const lines = [
    `key ${JSON.stringify(key)}: no order of these ${ops.length} operations (of ${keyOperations} on the key) ` +
      'respects real time and a register that starts absent:',
    ...ops.map((op) => '  ' + describeOperation(op, origin)),
  ];
  const hint = hintFor(ops, ttlToleranceMs);
  if (hint !== undefined) lines.push('  ' + hint);
  return lines.join('\n');
}

/** A plain-words reading of the most common small violations. */
function hintFor(ops: readonly HistoryOperation[], ttlToleranceMs: number): string | undefined {
  const writes = ops.filter((op) => op.kind !== 'read' && op.outcome !== 'fail');
  const writerOf = (v: string | null): HistoryOperation | undefined => (v === null ? undefined : writes.find((w) => w.value === v));
  // Deletes and expiries also make the key absent: "absent after a write" is no finding on its own then.
  const absentHasCauses = ops.some((op) => op.kind === 'delete' || op.ttlSeconds !== undefined);
  for (const op of ops) {
    if (op.outcome !== 'ok' || op.kind === 'write') continue;
    // What the op saw: a read its result, a cas or delete the value it replaced.
    const seen = (op.kind === 'read' ? op.result : op.expected) ?? null;
    const writer = writerOf(seen);
    if (seen !== null && writer === undefined) {
      return `#${op.id} saw ${JSON.stringify(seen)}, which no operation here could have written (a failed or never-issued write).`;
    }
    const expiry = expiryHint(op, seen, writer, ops, ttlToleranceMs);
    if (expiry !== undefined) return expiry;
    if ((writer !== undefined && writer.outcome !== 'ok') || (seen === null && absentHasCauses)) continue;
    const overwrite = writes.find(
      (w) => w.outcome === 'ok' && w !== writer && w.invokedAt > (writer?.completedAt ?? -Infinity) && w.completedAt! < op.invokedAt,
    );
    if (overwrite !== undefined) {
      const what = seen === null ? 'the key absent' : JSON.stringify(seen);
      return `#${op.id} saw ${what} although #${overwrite.id} had replaced it before #${op.id} started: stale or lost.`;
    }
  }
  return undefined;
}

/** A TTL'd value seen after it must have expired, or again after the key was seen absent. */
function expiryHint(
  op: HistoryOperation,
  seen: string | null,
  writer: HistoryOperation | undefined,
  ops: readonly HistoryOperation[],
  ttlToleranceMs: number,
): string | undefined {
  if (seen === null || writer?.ttlSeconds === undefined) return undefined;
  const expiredBy = (writer.completedAt ?? Infinity) + writer.ttlSeconds * 1000 + ttlToleranceMs;
  if (op.invokedAt > expiredBy) {
    return `#${op.id} saw ${JSON.stringify(seen)} after its ttl (${writer.ttlSeconds} s from #${writer.id}, + ${ttlToleranceMs} ms tolerance) had run out.`;
  }
  const absent = ops.find(
    (other) =>
      other.kind === 'read' &&
      other.outcome === 'ok' &&
      (other.result ?? null) === null &&
      other.invokedAt > (writer.completedAt ?? Infinity) &&
      other.completedAt! < op.invokedAt,
  );
  if (absent === undefined) return undefined;
  return `#${op.id} saw ${JSON.stringify(seen)} (ttl ${writer.ttlSeconds} s) after #${absent.id} had seen the key absent: an expired value came back.`;
}
