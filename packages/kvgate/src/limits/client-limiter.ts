import assert from 'node:assert/strict';

/** What a client may do; 0 turns a limit off. */
export interface ClientLimits {
  /** Requests a second, refilled continuously (a token bucket). */
  ratePerS: number;
  /** Requests a client may make at once after being idle: the bucket's size. */
  burst: number;
  /** Requests a client may have unanswered at once. */
  maxInFlight: number;
}

export type LimitReason = 'rate' | 'in_flight';

export interface LimitRefusal {
  reason: LimitReason;
  /** Whole seconds until the client may expect to be admitted (at least 1): the Retry-After header. */
  retryAfterS: number;
}

interface Budget {
  tokens: number;
  /** When `tokens` was last brought up to date, in ms of the clock. */
  at: number;
  inFlight: number;
}

/** Clients untouched this long with full buckets and nothing in flight are forgotten, so the map stays as small as the active clients. */
const SWEEP_INTERVAL_MS = 10_000;

/**
 * Per-client token buckets and in-flight counts, keyed by whatever names a
 * client (a user, an address). Pure: the clock is handed in. Admitting costs
 * one Map lookup and a few arithmetic operations.
 */
export class ClientLimiter {
  private readonly budgets = new Map<string, Budget>();
  private lastSweep: number;

  constructor(
    private readonly limits: ClientLimits,
    /** Milliseconds, monotonic. */
    private readonly now: () => number,
  ) {
    assert.ok(limits.ratePerS >= 0 && limits.maxInFlight >= 0, 'limits are not negative');
    assert.ok(limits.ratePerS === 0 || limits.burst >= 1, 'a rate limit needs a burst of at least 1');
    this.lastSweep = now();
  }

  /** Undefined: admitted, and counted in flight until `release`. Otherwise why not, and when to try again. */
  admit(client: string): LimitRefusal | undefined {
    const now = this.now();
    let budget = this.budgets.get(client);
    if (!budget) {
      if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(now);
      budget = { tokens: this.limits.burst, at: now, inFlight: 0 };
      this.budgets.set(client, budget);
    }
    const refusal = this.refusal(budget, now);
    if (refusal !== undefined) return refusal;
    if (this.limits.ratePerS > 0) {
      budget.tokens = this.refilled(budget, now) - 1;
      budget.at = now;
    }
    budget.inFlight++;
    return undefined;
  }

  /** What `admit` would answer now, without counting anything. */
  peek(client: string): LimitRefusal | undefined {
    const budget = this.budgets.get(client);
    return budget === undefined ? undefined : this.refusal(budget, this.now());
  }

  /** An admitted request was answered (or its client went away). */
  release(client: string): void {
    const budget = this.budgets.get(client);
    assert.ok(budget !== undefined && budget.inFlight > 0, `release without admit for ${client}`);
    budget.inFlight--;
  }

  /** Clients remembered now (for tests: the map does not grow without bound). */
  get tracked(): number {
    return this.budgets.size;
  }

  private refusal(budget: Budget, now: number): LimitRefusal | undefined {
    const { ratePerS, maxInFlight } = this.limits;
    if (maxInFlight > 0 && budget.inFlight >= maxInFlight) return { reason: 'in_flight', retryAfterS: 1 };
    const tokens = ratePerS > 0 ? this.refilled(budget, now) : 1;
    return tokens < 1 ? { reason: 'rate', retryAfterS: Math.max(1, Math.ceil((1 - tokens) / ratePerS)) } : undefined;
  }

  private refilled(budget: Budget, now: number): number {
    return Math.min(this.limits.burst, budget.tokens + ((now - budget.at) * this.limits.ratePerS) / 1000);
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [client, budget] of this.budgets) {
      const full = this.limits.ratePerS === 0 || this.refilled(budget, now) >= this.limits.burst;
      if (budget.inFlight === 0 && full) this.budgets.delete(client);
    }
  }
}
