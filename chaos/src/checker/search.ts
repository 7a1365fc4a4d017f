/**
 * Wing–Gong linearizability search for one register, with the pruning
 * Porcupine and Knossos use (Lowe's "just-in-time" variant):
 *
 * - The history is a doubly linked list of call and return entries sorted by
 *   time. Linearizing an operation lifts both its entries out of the list;
 *   backtracking puts them back (they keep their own links, so LIFO re-insertion
 *   restores the list exactly).
 * - Scanning from the head, a call entry is a candidate to linearize next; a
 *   return entry means that operation must already have been linearized, so
 *   the current branch is dead and we backtrack.
 * - A cache of (set of linearized operations, register state) already
 *   explored prunes the search: reaching the same pair again by another order
 *   cannot lead anywhere new.
 *
 * Optional operations (unknown outcome) return at +Infinity, after every
 * required one. Reaching such a return entry therefore means every required
 * operation is linearized: the rest may simply never have happened.
 */
import { applyEffect, type RegisterOp, type RegisterValue } from './register';

export type SearchOutcome = 'ok' | 'violation' | 'unknown';

export interface SearchResult {
  outcome: SearchOutcome;
  /** Entries examined; 'unknown' means the budget ran out first. */
  steps: number;
}

interface CachedConfig {
  linearized: Uint32Array;
  state: RegisterValue;
}

export function searchLinearization(ops: readonly RegisterOp[], maxSteps: number): SearchResult {
  const n = ops.length;
  if (n === 0) return { outcome: 'ok', steps: 0 };

  // Entries 0..2n-1: entry 2i is op i's call, 2i+1 its return. HEAD is a sentinel.
  const HEAD = 2 * n;
  const time = (e: number): number => (e & 1 ? ops[e >> 1].ret : ops[e >> 1].call);
  const order = Array.from({ length: 2 * n }, (_, e) => e);
  // Calls before returns at equal times: touching intervals count as concurrent,
  // which can only accept more histories (millisecond clocks are coarse).
  order.sort((a, b) => time(a) - time(b) || (a & 1) - (b & 1));
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  let last = HEAD;
  for (const e of order) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = -1;

  const remove = (e: number): void => {
    next[prev[e]] = next[e];
    if (next[e] !== -1) prev[next[e]] = prev[e];
  };
  const restore = (e: number): void => {
    next[prev[e]] = e;
    if (next[e] !== -1) prev[next[e]] = e;
  };
  const lift = (op: number): void => {
    remove(2 * op);
    remove(2 * op + 1);
  };
  const unlift = (op: number): void => {
    restore(2 * op + 1);
    restore(2 * op);
  };

  // Zobrist hashing keeps the linearized set's hash current in O(1) per change.
  const zobrist = randomWords(n);
  const linearized = new Uint32Array((n + 31) >>> 5);
  let hash = 0;
  const toggle = (op: number): void => {
    linearized[op >>> 5] ^= 1 << (op & 31);
    hash ^= zobrist[op];
  };
  const cache = new Map<number, CachedConfig[]>();
  const remember = (state: RegisterValue): boolean => {
    const bucket = cache.get(hash);
    if (bucket === undefined) {
      cache.set(hash, [{ linearized: linearized.slice(), state }]);
      return true;
    }
    if (bucket.some((c) => c.state === state && sameBits(c.linearized, linearized))) return false;
    bucket.push({ linearized: linearized.slice(), state });
    return true;
  };

  const stackOps = new Int32Array(n);
  const stackStates: RegisterValue[] = [];
  let depth = 0;
  let state: RegisterValue = null;
  let entry = next[HEAD];
  let steps = 0;

  while (next[HEAD] !== -1) {
    if (++steps > maxSteps) return { outcome: 'unknown', steps: maxSteps };
    const op = entry >> 1;
    if ((entry & 1) === 0) {
      const after = applyEffect(ops[op].effect, state);
      if (after !== undefined) {
        toggle(op);
        if (remember(after)) {
          stackOps[depth] = op;
          stackStates[depth] = state;
          depth++;
          state = after;
          lift(op);
          entry = next[HEAD];
          continue;
        }
        toggle(op);
      }
      entry = next[entry];
    } else {
      if (ops[op].optional) return { outcome: 'ok', steps };
      if (depth === 0) return { outcome: 'violation', steps };
      depth--;
      const undone = stackOps[depth];
      state = stackStates[depth];
      toggle(undone);
      unlift(undone);
      entry = next[2 * undone];
    }
  }
  return { outcome: 'ok', steps };
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Deterministic (xorshift32) so a verdict that hits the budget is reproducible. */
function randomWords(n: number): Uint32Array {
  const words = new Uint32Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return words;
}
