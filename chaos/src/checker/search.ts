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
 * Optional operations (unknown outcome) have a deadline after which they no
 * longer matter; reaching its return entry unlinearized, the search treats
 * the op as never having happened. An op that `requires` another (a TTL
 * expiry its write) is a candidate only once that one is settled, and is
 * dropped like an optional op if that one was never taken.
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
  // which can only accept more histories (millisecond clocks are coarse). An
  // optional op's deadline is the end of an op it may serve: it goes last.
  const rank = (e: number): number => (e & 1) * (ops[e >> 1].optional ? 2 : 1);
  order.sort((a, b) => time(a) - time(b) || rank(a) - rank(b));
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

  const observes = ops.map((op) => op.effect.kind === 'read' || op.effect.kind === 'mismatch');
  const requires = ops.map((op) => op.requires ?? -1);
  const isLinearized = (op: number): boolean => ((linearized[op >>> 5] >>> (op & 31)) & 1) === 1;
  // Waiting on an op that is not settled yet (an expiry before its write).
  const waiting = (op: number): boolean => requires[op] >= 0 && !isLinearized(requires[op]);
  // An expiry whose value is gone for good (its write is settled, the state is another value) changes
  // nothing now or ever: like an observer, it is taken as soon as it can be.
  const noOpForever = (effect: RegisterOp['effect']): boolean => effect.kind === 'expire' && state !== effect.value;
  const stackOps = new Int32Array(n);
  const stackStates: RegisterValue[] = [];
  // Whether a stack entry was forced (no alternative to revisit), and whether
  // a wildcard had already been tried at the level below it.
  const stackForced = new Uint8Array(n);
  const stackWildTried = new Uint8Array(n);
  let depth = 0;
  let state: RegisterValue = null;
  let entry = next[HEAD];
  let wildTried = false;
  let steps = 0;

  const push = (op: number, after: RegisterValue, forced: boolean): void => {
    stackOps[depth] = op;
    stackStates[depth] = state;
    stackForced[depth] = forced ? 1 : 0;
    stackWildTried[depth] = wildTried ? 1 : 0;
    depth++;
    state = after;
    wildTried = false;
    lift(op);
    entry = next[HEAD];
  };
  // Back to the latest choice worth revisiting; false when there is none.
  // Forced entries are popped through:
  // - an observer (read, 412) taken as soon as it could be: it leaves the
  //   state unchanged, so taking it later can only fail where taking it now
  //   failed (this keeps k concurrent reads of one value from costing 2^k);
  // - an optional op dropped at its deadline: every alternative at that
  //   level had been tried before the scan reached its deadline.
  const backtrack = (): boolean => {
    while (depth > 0) {
      depth--;
      const undone = stackOps[depth];
      state = stackStates[depth];
      wildTried = stackWildTried[depth] === 1 || ops[undone].wildcard;
      toggle(undone);
      unlift(undone);
      if (stackForced[depth] === 0) {
        entry = next[2 * undone];
        return true;
      }
    }
    return false;
  };
  // Is a 412 among the candidates refused only because the state equals its expected value?
  const mismatchWaiting = (): boolean => {
    for (let e = next[HEAD]; e !== -1 && (e & 1) === 0; e = next[e]) {
      const effect = ops[e >> 1].effect;
      if (effect.kind === 'mismatch' && effect.expected === state) return true;
    }
    return false;
  };

  while (next[HEAD] !== -1) {
    if (++steps > maxSteps) return { outcome: 'unknown', steps: maxSteps };
    const op = entry >> 1;
    if (entry & 1) {
      // A return entry: this op must be linearized by now (unless what it waits for never happened).
      if (!ops[op].optional && !waiting(op)) {
        if (!backtrack()) return { outcome: 'violation', steps };
        continue;
      }
      // An optional op past its deadline: from here on it never happened.
      toggle(op);
      if (remember(state)) {
        push(op, state, true);
        continue;
      }
      toggle(op);
      if (!backtrack()) return { outcome: 'violation', steps };
      continue;
    }
    // Wildcards are interchangeable and only useful to let a waiting 412
    // through, so try at most one per level, and only then.
    const after =
      (ops[op].wildcard && (wildTried || !mismatchWaiting())) || waiting(op) ? undefined : applyEffect(ops[op].effect, state);
    if (after === undefined) {
      entry = next[entry];
      continue;
    }
    const forced = observes[op] || noOpForever(ops[op].effect);
    toggle(op);
    if (remember(after)) {
      push(op, after, forced);
      continue;
    }
    toggle(op);
    // Already explored (and failed) with this observer taken: by the argument
    // above, so does every branch from here.
    if (!forced) entry = next[entry];
    else if (!backtrack()) return { outcome: 'violation', steps };
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
