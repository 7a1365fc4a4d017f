/**
 * The register model the linearizability search runs against, and the step
 * that turns one key's recorded operations into what the search sees.
 *
 * The register starts absent (null). Values are unique per write, so "which
 * write produced this value" is always a single operation.
 */
import type { HistoryOperation } from '../history';

export type RegisterValue = string | null;

/**
 * What an operation does to the register:
 * - write: sets `value`;
 * - read: requires the state to equal `value` (null: absent);
 * - cas: requires the state to equal `expected`, then sets `value`;
 * - mismatch: a cas refused with 412 — at some instant in its interval the
 *   state differed from `expected`; it changes nothing.
 */
export type RegisterEffect =
  | { kind: 'write'; value: string }
  | { kind: 'read'; value: RegisterValue }
  | { kind: 'cas'; expected: RegisterValue; value: string }
  | { kind: 'mismatch'; expected: RegisterValue };

export interface RegisterOp {
  source: HistoryOperation;
  effect: RegisterEffect;
  /** Earliest instant it may take effect. */
  call: number;
  /** Latest instant it may take effect; +Infinity exactly when `optional`. */
  ret: number;
  /** May be left out of the linearization (an unknown write or cas that may never have happened). */
  optional: boolean;
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

/**
 * A completed operation without a completion time cannot happen (the
 * recorder sets it with the outcome), but if it does the op stays required
 * and its window simply never closes before the optional ones' (+Infinity).
 */
const OPEN_END = Number.MAX_VALUE;

/**
 * Builds the search input for one key's operations.
 *
 * Unknown writes and cas ops are the search's main cost, so they are
 * narrowed using value uniqueness first:
 * - one whose value some ok operation observed (a read returning it, a cas
 *   expecting it) certainly happened, before the last such observer
 *   completed: it becomes required with that deadline;
 * - one nobody observed can be assumed never to have happened, unless the
 *   key has 412 observations (state ≠ expected), which an unobserved write
 *   could be what satisfied; then it stays optional with an open end.
 */
export function toRegisterOps(ops: readonly HistoryOperation[], isPrecondition: PreconditionTest): RegisterOp[] {
  const observedUntil = new Map<string, number>();
  let hasMismatch = false;
  for (const op of ops) {
    if (op.outcome === 'fail' && op.kind === 'cas' && isPrecondition(op)) hasMismatch = true;
    if (op.outcome !== 'ok') continue;
    const seen = op.kind === 'read' ? op.result : op.kind === 'cas' ? op.expected : null;
    if (seen === null || seen === undefined) continue;
    const end = op.completedAt ?? OPEN_END;
    observedUntil.set(seen, Math.max(observedUntil.get(seen) ?? -Infinity, end));
  }

  const result: RegisterOp[] = [];
  for (const op of ops) {
    const effect = effectOf(op, isPrecondition);
    if (effect === undefined) continue;
    const call = op.invokedAt;
    if (op.outcome !== 'unknown') {
      result.push({ source: op, effect, call, ret: op.completedAt ?? OPEN_END, optional: false });
      continue;
    }
    const observed = observedUntil.get(op.value as string);
    if (observed !== undefined) {
      result.push({ source: op, effect, call, ret: Math.max(call, observed), optional: false });
    } else if (hasMismatch) {
      result.push({ source: op, effect, call, ret: Infinity, optional: true });
    }
  }
  return result;
}

function effectOf(op: HistoryOperation, isPrecondition: PreconditionTest): RegisterEffect | undefined {
  if (op.outcome === 'fail') {
    return op.kind === 'cas' && isPrecondition(op) ? { kind: 'mismatch', expected: op.expected ?? null } : undefined;
  }
  switch (op.kind) {
    case 'read':
      // An unknown read tells nothing.
      return op.outcome === 'ok' ? { kind: 'read', value: op.result ?? null } : undefined;
    case 'write':
      return op.value === undefined ? undefined : { kind: 'write', value: op.value };
    case 'cas':
      return op.value === undefined ? undefined : { kind: 'cas', expected: op.expected ?? null, value: op.value };
  }
}

/** Operations that can never affect the verdict, whatever else is in the sub-history. */
export function isIrrelevant(op: HistoryOperation, isPrecondition: PreconditionTest): boolean {
  return effectOf(op, isPrecondition) === undefined;
}
