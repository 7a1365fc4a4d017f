import { performance } from 'node:perf_hooks';
import { ABSENT, type KeyLedger } from './key-ledger';
import { runLoad, type RequestShape } from './load';
import { keyOf } from './workload';

/** What the final check found; `lost` and `stale` must be 0. */
export interface ReadBackResult {
  /** Keys read back: every key of the load. */
  keys: number;
  /** Keys whose acknowledged state is a value, read back absent. */
  lost: number;
  /** Keys read back holding another value than their acknowledged one, or a value when a DELETE was acknowledged last. */
  stale: number;
  /** Keys with a write of unknown outcome, which may hold either state (counted, and checked against both). */
  uncertain: number;
  /** Keys that gave no 200 or 404 in two tries: not checked. */
  unreadable: number;
  seconds: number;
  /** The first few lost, stale or unreadable keys, with what was expected and read. */
  examples: string[];
}

const EXAMPLES = 10;
/** A key that gives no 200 or 404 (a 503 while a leader is elected, no answer) is read again once. */
const TRIES = 2;

/**
 * The final check, with the load stopped: a strong GET of every key of the
 * load through the gate, compared with what the ledger says its last
 * acknowledged write left. It says whether the migrations lost or
 * resurrected anything acknowledged; it does not check the answers given
 * during the load (the chaos runner's linearizability checker does that
 * kind of check).
 */
export async function readBack(url: string, ledger: KeyLedger, connections: number): Promise<ReadBackResult> {
  const started = performance.now();
  const result: ReadBackResult = { keys: ledger.keys, lost: 0, stale: 0, uncertain: 0, unreadable: 0, seconds: 0, examples: [] };
  const example = (line: string): void => {
    if (result.examples.length < EXAMPLES) result.examples.push(line);
  };
  let toRead = Array.from({ length: ledger.keys }, (_, n) => n);
  for (let attempt = 1; attempt <= TRIES && toRead.length > 0; attempt++) {
    const keyOfRequest = new WeakMap<RequestShape, number>();
    const unanswered = new Set(toRead);
    let next = 0;
    await runLoad({
      url,
      connections,
      amount: toRead.length,
      // autocannon sends exactly `amount` requests; the bound only keeps a surprise from reading past the end.
      next: () => {
        const n = toRead[Math.min(next++, toRead.length - 1)]!;
        const request: RequestShape = { method: 'GET', path: `/v1/kv/${keyOf(n)}?consistency=strong` };
        keyOfRequest.set(request, n);
        return request;
      },
      onAnswer: (request, status, _ms, body) => {
        const n = keyOfRequest.get(request)!;
        if (status !== 200 && status !== 404) {
          if (attempt === TRIES) example(`${keyOf(n)}: ${status} ${body.slice(0, 120)}`);
          return;
        }
        if (!unanswered.delete(n)) return;
        const read = status === 404 ? ABSENT : ledger.stateOfValue(body);
        const states = ledger.statesOf(n);
        if (states.length > 1) result.uncertain++;
        if (read !== undefined && states.includes(read)) return;
        const expected = states.map((state) => ledger.describeState(state)).join(' or ');
        example(`${keyOf(n)}: expected ${expected}, read ${ledger.describeState(read)}`);
        if (read === ABSENT) result.lost++;
        else result.stale++;
      },
    });
    toRead = [...unanswered];
  }
  result.unreadable = toRead.length;
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
