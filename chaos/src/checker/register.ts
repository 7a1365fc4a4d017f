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
  /** Latest instant it may take effect (for an optional op: after it, it no longer matters). */
  ret: number;
  /** May be left out of the linearization (an unknown write or cas that may never have happened). */
  optional: boolean;
  /** An optional write nobody observes: only worth applying right before a 412 it would explain. */
  wildcard: boolean;
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
 *   which its value may have satisfied: optional until the last 412 ends,
 *   dropped outright when there are none. Such a write (not a cas: that has
 *   its own precondition) is a "wildcard": any one is as good as another.
 */
export function toRegisterOps(ops: readonly HistoryOperation[], isPrecondition: PreconditionTest): RegisterOp[] {
  const effects = new Map<HistoryOperation, RegisterEffect>();
  for (const op of ops) {
    const effect = effectOf(op, isPrecondition);
    if (effect !== undefined) effects.set(op, effect);
  }
  const unknownWriterOf = new Map<string, HistoryOperation>();
  const expectedByAnyCas = new Set<string | null>();
  let lastMismatch = -Infinity;
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
    if (op.outcome === 'unknown') unknownWriterOf.set(op.value!, op);
    if (effect.kind === 'cas' || effect.kind === 'mismatch') expectedByAnyCas.add(effect.expected);
    if (effect.kind === 'mismatch') lastMismatch = Math.max(lastMismatch, op.completedAt ?? OPEN_END);
  }
  for (const [op, effect] of effects) {
    if (op.outcome !== 'ok' || (effect.kind !== 'read' && effect.kind !== 'cas')) continue;
    need(effect.kind === 'read' ? effect.value : effect.expected, op.completedAt ?? OPEN_END, true);
  }
  for (const op of unknownWriterOf.values()) {
    if (op.kind === 'cas') need(op.expected, Math.max(deadline.get(op) ?? -Infinity, lastMismatch), false);
  }

  const result: RegisterOp[] = [];
  for (const [op, effect] of effects) {
    const call = op.invokedAt;
    if (op.outcome !== 'unknown') {
      result.push({ source: op, effect, call, ret: op.completedAt ?? OPEN_END, optional: false, wildcard: false });
    } else if (required.has(op)) {
      result.push({ source: op, effect, call, ret: Math.max(call, deadline.get(op)!), optional: false, wildcard: false });
    } else {
      const until = Math.max(deadline.get(op) ?? -Infinity, lastMismatch);
      if (until < call) continue; // Could not matter to anything: assume it never happened.
      const wildcard = op.kind === 'write' && !expectedByAnyCas.has(op.value!);
      const asWildcard: RegisterEffect = { kind: 'write', value: UNOBSERVED };
      result.push({ source: op, effect: wildcard ? asWildcard : effect, call, ret: until, optional: true, wildcard });
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
