import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { errorCode } from './answer-log';
import type { RequestShape } from './load';
import { keyOf } from './workload';

/** A key's state when the last write acknowledged on it was a DELETE. */
export const ABSENT = -1;
/** No request is out on the key (else: GET_OUT, or the state the write that is out would leave). */
const NONE = -3;
const GET_OUT = -2;

/** What came of a write: applied (2xx), certainly not applied (a 4xx, or 503 UNAVAILABLE: refused before any log), or unknown. */
function writeOutcome(status: number, body: string): 'applied' | 'refused' | 'unknown' {
  if (status >= 200 && status < 300) return 'applied';
  if ((status >= 400 && status < 500) || (status === 503 && errorCode(body) === 'UNAVAILABLE')) return 'refused';
  return 'unknown';
}

/**
 * The resharding load's requests, and per key the state its last
 * acknowledged write left: the final check (read-back.ts) compares every key
 * with it. Two requests on one key are never out at once (the next request
 * picks another key), so the answers on a key come in the order the cluster
 * applied them and the last acknowledged write is the key's state, unless a
 * later write's outcome is unknown (no answer, a 504): then the key may hold
 * either. Values come from a pool of 64, each starting with its own
 * character, so a value read back names the write that left it; they are
 * ASCII, so that autocannon's string bodies hold them exactly.
 */
export class KeyLedger {
  private readonly values: string[];
  private readonly bodies: Buffer[];
  private readonly indexOfValue: Map<string, number>;
  /** Per key: the index of its acknowledged value, or ABSENT. */
  private readonly acked: Int8Array;
  /** Per key: NONE, GET_OUT, or the state the write that is out would leave; a request that got no answer stays out for good. */
  private readonly out: Int8Array;
  private readonly keyOfRequest = new WeakMap<RequestShape, number>();
  /** Keys with a write of unknown outcome since their last acknowledged one: the states those writes would leave. */
  private readonly unknown = new Map<number, Set<number>>();
  private writing = true;
  /** Writes sent and not answered yet (one that got no answer stays counted). */
  private writesOut = 0;

  constructor(
    readonly keys: number,
    valueBytes: number,
    private readonly mix: { put: number; delete: number },
  ) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    this.values = [...alphabet].map((first) => (first + randomBytes(valueBytes).toString('base64')).slice(0, valueBytes));
    this.bodies = this.values.map((value) => Buffer.from(value));
    this.indexOfValue = new Map(this.values.map((value, index) => [value, index]));
    this.acked = new Int8Array(keys).fill(ABSENT);
    this.out = new Int8Array(keys).fill(NONE);
  }

  /** A PUT of key `n` for the initial load, which must succeed as a whole (prefill throws otherwise): its value counts as acknowledged. */
  loadPut(n: number): RequestShape {
    const value = Math.floor(Math.random() * this.bodies.length);
    this.acked[n] = value;
    return { method: 'PUT', path: `/v1/kv/${keyOf(n)}`, body: this.bodies[value] };
  }

  /** The next request of the mixed load (strong GET, PUT or DELETE), on a key no other request is out on. */
  next(): RequestShape {
    let n: number;
    do n = Math.floor(Math.random() * this.keys);
    while (this.out[n] !== NONE);
    const draw = this.writing ? Math.random() : 1;
    let request: RequestShape;
    if (draw < this.mix.put) {
      const value = Math.floor(Math.random() * this.bodies.length);
      this.out[n] = value;
      request = { method: 'PUT', path: `/v1/kv/${keyOf(n)}`, body: this.bodies[value] };
    } else if (draw < this.mix.put + this.mix.delete) {
      this.out[n] = ABSENT;
      request = { method: 'DELETE', path: `/v1/kv/${keyOf(n)}` };
    } else {
      this.out[n] = GET_OUT;
      request = { method: 'GET', path: `/v1/kv/${keyOf(n)}?consistency=strong` };
    }
    if (request.method !== 'GET') this.writesOut++;
    this.keyOfRequest.set(request, n);
    return request;
  }

  /** From now on next() sends only GETs, so that the writes out are answered before the load is stopped (few are left unknown). */
  stopWriting(): void {
    this.writing = false;
  }

  /** True once every write sent has been answered. */
  writesAnswered(): boolean {
    return this.writesOut === 0;
  }

  /** Records the answer to a request of next(). */
  answered(request: RequestShape, status: number, body: string): void {
    const n = this.keyOfRequest.get(request);
    assert(n !== undefined, `an answer to a request the ledger did not make: ${request.method} ${request.path}`);
    const sent = this.out[n]!;
    this.out[n] = NONE;
    if (sent === GET_OUT) return;
    this.writesOut--;
    const outcome = writeOutcome(status, body);
    if (outcome === 'applied') {
      this.acked[n] = sent;
      this.unknown.delete(n);
    } else if (outcome === 'unknown') {
      const states = this.unknown.get(n) ?? new Set<number>();
      this.unknown.set(n, states.add(sent));
    }
  }

  /**
   * Once the load has stopped: the states key `n` may be in, the
   * acknowledged one first; more than one when a write on it had an unknown
   * outcome or got no answer.
   */
  statesOf(n: number): number[] {
    const states = new Set([this.acked[n]!, ...(this.unknown.get(n) ?? [])]);
    const out = this.out[n]!;
    if (out !== NONE && out !== GET_OUT) states.add(out);
    return [...states];
  }

  /** The state a value read back stands for: its index in the pool, or undefined for a value this bench never wrote. */
  stateOfValue(value: string): number | undefined {
    return this.indexOfValue.get(value);
  }

  describeState(state: number | undefined): string {
    if (state === ABSENT) return 'absent';
    return state === undefined ? 'a value never written' : `value #${state}`;
  }
}
