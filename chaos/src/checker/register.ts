/**
 * The register model the linearizability search runs against, and the step
 * that turns one key's recorded operations into what the search sees.
 *
 * The register starts absent (null). Values are unique per write, so "which
 * write produced this value" is always a single operation.
 *
 * A value written with a TTL expires: the leader stamps it with its own
 * clock, so in real time it may vanish from `invokedAt + ttl − tolerance`
 * and must be gone by `completedAt + ttl + tolerance` (the tolerance covers
 * clocks that disagree). Its expiry is one event of the history, like a
 * write: once the register was seen absent, the value never comes back.
 */
import type { HistoryOperation } from '../history';

export type RegisterValue = string | null;

/**
 * What an operation does to the register:
 * - write: sets `value`;
 * - read: requires the state to equal `value` (null: absent);
 * - cas: requires the state to equal `expected`, then sets `value` (null: a delete);
 * - mismatch: a cas refused with 412 — at some instant in its interval the
 *   state differed from `expected`; it changes nothing;
 * - expire: the end of a TTL'd write's value: absent if the state is still
 *   `value`, nothing otherwise.
 */
export type RegisterEffect =
  | { kind: 'write'; value: string }
  | { kind: 'read'; value: RegisterValue }
  | { kind: 'cas'; expected: RegisterValue; value: RegisterValue }
  | { kind: 'mismatch'; expected: RegisterValue }
  | { kind: 'expire'; value: string };

export interface RegisterOp {
  source: HistoryOperation;
  effect: RegisterEffect;
  /** Earliest instant it may take effect. */
  call: number;
  /** Latest instant it may take effect (for an optional op: after it, it no longer matters). */
  ret: number;
  /** May be left out of the linearization (an unknown write or cas that may never have happened). */
  optional: boolean;
  /** An optional write nobody observes: only worth applying right before a 412 it would explain. */
  wildcard: boolean;
  /**
   * Index (in the same list) of the op that must be settled — linearized, or
   * dropped as never having happened — before this one can be taken: an
   * expiry waits for its write.
   */
  requires?: number;
}

/** The state after applying `effect` to `state`, or undefined if the effect is impossible in that state. */
export function applyEffect(effect: RegisterEffect, state: RegisterValue): RegisterValue | undefined {
  switch (effect.kind) {
    case 'write':
      return effect.value;
    case 'read':
      return state === effect.value ? state : undefined;
    case 'cas':
      return state === effect.expected ? effect.value : undefined;
    case 'mismatch':
      return state !== effect.expected ? state : undefined;
    case 'expire':
      return state === effect.value ? null : state;
  }
}

/**
 * Whether a failed cas was refused for its precondition (412) rather than
 * never attempted (503, refused before sending). history.ts has no field for
 * this, so the default reads the recorded HTTP status / error code.
 */
export type PreconditionTest = (op: HistoryOperation) => boolean;
export const refusedForPrecondition: PreconditionTest = (op) =>
  op.detail !== undefined && /412|PRECONDITION/i.test(op.detail);

/** Default TTL tolerance: clocks that agree, and a second of slack. */
export const DEFAULT_TTL_TOLERANCE_MS = 1000;

/** A completed operation without a completion time should not exist; if it does, its window never closes. */
const OPEN_END = Number.MAX_VALUE;

/** The state a wildcard write leaves: one shared value no operation expects. */
const UNOBSERVED = '\u0000unobserved';

/**
 * Builds the search input for one key's operations.
 *
 * Unknown writes and cas ops are the search's main cost, so value uniqueness
 * narrows them first:
 * - one whose value an ok operation observed (a read returning it, a cas
 *   expecting it) certainly happened before the last such observer
 *   completed: it becomes required, with that deadline; likewise, through a
 *   chain, the write an unknown cas depends on;
 * - one nobody observed matters only to the key's 412s (state ≠ expected),
 *   which its value may have satisfied, and — if it can leave the key
 *   absent (a delete, a TTL'd write) — to observers of absence: optional
 *   until the last of those ends, dropped outright when there are none. Such
 *   a write without TTL or acknowledgement (not a cas: that has its own
 *   precondition) is a "wildcard": any one is as good as another.
 * An unknown op with a completedAt (acknowledged in async mode) cannot take
 * effect after it, so its window ends there.
 * Each TTL'd write is followed by its expiry (see the file's comment).
 */
export function toRegisterOps(
  ops: readonly HistoryOperation[],
  isPrecondition: PreconditionTest,
  ttlToleranceMs = DEFAULT_TTL_TOLERANCE_MS,
): RegisterOp[] {
  const effects = new Map<HistoryOperation, RegisterEffect>();
  for (const op of ops) {
    const effect = effectOf(op, isPrecondition);
    if (effect !== undefined) effects.set(op, effect);
  }
  const unknownWriterOf = new Map<string, HistoryOperation>();
  const expectedByAnyCas = new Set<string | null>();
  let lastMismatch = -Infinity;
  let lastAbsentObserver = -Infinity;
  const deadline = new Map<HistoryOperation, number>();
  const required = new Set<HistoryOperation>();
  const need = (value: string | null | undefined, until: number, certain: boolean): void => {
    const writer = value == null ? undefined : unknownWriterOf.get(value);
    const known = writer !== undefined && (deadline.get(writer) ?? -Infinity) >= until && (!certain || required.has(writer));
    if (writer === undefined || known) return;
    deadline.set(writer, Math.max(deadline.get(writer) ?? -Infinity, until));
    if (certain) required.add(writer);
    // An unknown cas needs, in turn, the unknown write of the value it replaces.
    if (writer.kind === 'cas') need(writer.expected, until, certain);
  };

  for (const [op, effect] of effects) {
    if (op.outcome === 'unknown' && op.value !== undefined) unknownWriterOf.set(op.value, op);
    if (effect.kind === 'cas' || effect.kind === 'mismatch') expectedByAnyCas.add(effect.expected);
    if (effect.kind === 'mismatch') lastMismatch = Math.max(lastMismatch, op.completedAt ?? OPEN_END);
    const seesAbsent = (effect.kind === 'read' && effect.value === null) || (effect.kind === 'cas' && effect.expected === null);
    if (seesAbsent && op.outcome === 'ok') lastAbsentObserver = Math.max(lastAbsentObserver, op.completedAt ?? OPEN_END);
  }
  for (const [op, effect] of effects) {
    if (op.outcome !== 'ok' || (effect.kind !== 'read' && effect.kind !== 'cas')) continue;
    need(effect.kind === 'read' ? effect.value : effect.expected, op.completedAt ?? OPEN_END, true);
  }
  // What an unknown op that nobody observed can still matter to.
  const mattersUntil = (op: HistoryOperation): number =>
    Math.max(deadline.get(op) ?? -Infinity, lastMismatch, leavesAbsent(op) ? lastAbsentObserver : -Infinity);
  for (const [op, effect] of effects) {
    if (op.outcome === 'unknown' && effect.kind === 'cas') need(effect.expected, mattersUntil(op), false);
  }

  const result: RegisterOp[] = [];
  const push = (registerOp: RegisterOp): void => {
    result.push(registerOp);
    const { source } = registerOp;
    if (source.ttlSeconds === undefined || source.value === undefined) return;
    const ttlMs = source.ttlSeconds * 1000;
    result.push({
      source,
      effect: { kind: 'expire', value: source.value },
      call: source.invokedAt + ttlMs - ttlToleranceMs,
      ret: (source.completedAt ?? OPEN_END) + ttlMs + ttlToleranceMs,
      optional: false,
      wildcard: false,
      requires: result.length - 1,
    });
  };
  for (const [op, effect] of effects) {
    const call = op.invokedAt;
    // An unknown op acknowledged in async mode took effect by its completion, if at all.
    const latest = op.completedAt ?? OPEN_END;
    if (op.outcome !== 'unknown') {
      push({ source: op, effect, call, ret: latest, optional: false, wildcard: false });
    } else if (required.has(op)) {
      push({ source: op, effect, call, ret: Math.max(call, Math.min(latest, deadline.get(op)!)), optional: false, wildcard: false });
    } else {
      const until = Math.min(latest, mattersUntil(op));
      if (until < call) continue; // Could not matter to anything: assume it never happened.
      // A wildcard is tried only right before a 412 it would explain: its window must reach that far.
      const wildcard = op.kind === 'write' && op.ttlSeconds === undefined && op.completedAt === undefined && !expectedByAnyCas.has(op.value!);
      const asWildcard: RegisterEffect = { kind: 'write', value: UNOBSERVED };
      push({ source: op, effect: wildcard ? asWildcard : effect, call, ret: until, optional: true, wildcard });
    }
  }
  return result;
}

/** Whether the op can leave the key absent: a delete, or a write whose value expires. */
function leavesAbsent(op: HistoryOperation): boolean {
  return op.kind === 'delete' || op.ttlSeconds !== undefined;
}

function effectOf(op: HistoryOperation, isPrecondition: PreconditionTest): RegisterEffect | undefined {
  if (op.outcome === 'fail') {
    return (op.kind === 'cas' || op.kind === 'delete') && isPrecondition(op) ? { kind: 'mismatch', expected: op.expected ?? null } : undefined;
  }
  switch (op.kind) {
    case 'read':
      // An unknown read tells nothing.
      return op.outcome === 'ok' ? { kind: 'read', value: op.result ?? null } : undefined;
    case 'write':
      return op.value === undefined ? undefined : { kind: 'write', value: op.value };
    case 'cas':
      return op.value === undefined ? undefined : { kind: 'cas', expected: op.expected ?? null, value: op.value };
    case 'delete':
      // Only conditional deletes are recorded: If-Match on an absent key is a 412, not a no-op.
      return op.expected === undefined || op.expected === null ? undefined : { kind: 'cas', expected: op.expected, value: null };
  }
}

/** Operations that can never affect the verdict, whatever else is in the sub-history. */
export function isIrrelevant(op: HistoryOperation, isPrecondition: PreconditionTest): boolean {
  return effectOf(op, isPrecondition) === undefined;
}
