import { KvError } from '@kvstore/protocol';

export interface RetryPolicy {
  /** Further attempts after the first. */
  retries: number;
  /** Before the n-th further attempt, wait delayMs × 2^(n−1). */
  delayMs: number;
  /** Whether a failure may be followed by another attempt (the request was not applied, or repeating it is harmless). */
  mayRepeat(failure: KvError): boolean;
  /** Called before each further attempt (kvclient moves to the next gate). */
  beforeRetry?(): void;
  /**
   * The longest a RetryLater may make the loop wait: one that asks for no
   * more is repeated (it was refused before anything was done) after that
   * long; a longer one ends the loop. Without it, mayRepeat decides alone.
   */
  maxRetryAfterMs?: number;
}

/** A refusal that says when to come back (a gate's 429 with Retry-After): nothing was done, so any request may be repeated, after that long. */
export class RetryLater extends KvError {
  constructor(
    refusal: KvError,
    readonly retryAfterMs: number,
  ) {
    super(refusal.code, refusal.message, { cause: refusal.cause });
  }
}

function policyAllows(policy: RetryPolicy, failure: KvError): boolean {
  if (failure instanceof RetryLater && policy.maxRetryAfterMs !== undefined) return failure.retryAfterMs <= policy.maxRetryAfterMs;
  return policy.mayRepeat(failure);
}

/**
 * The one retry loop of the client side: runs `attempt` until it succeeds,
 * fails in a way the policy says must not be repeated, or the retries are
 * used up; a RetryLater waits as long as it asks. What is safe to repeat is the caller's to say: only it knows
 * whether the request may have been applied and whether applying it twice
 * matters.
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      return await attempt();
    } catch (failure) {
      if (!(failure instanceof KvError) || round >= policy.retries || !policyAllows(policy, failure)) throw failure;
      const backoffMs = policy.delayMs * 2 ** round;
      policy.beforeRetry?.();
      await new Promise((resolve) => setTimeout(resolve, failure instanceof RetryLater ? Math.max(failure.retryAfterMs, backoffMs) : backoffMs));
    }
  }
}

/**
 * Retryable codes (503, 421 with the API's body) mean the request was refused
 * before it reached any log, so even a write may be repeated. A read may also
 * be repeated after an unknown outcome (504, a bare 5xx), which for a write
 * means "maybe applied".
 */
export function mayRepeat(failure: KvError, write: boolean): boolean {
  return failure.retryable || (!write && failure.code === 'TIMEOUT');
}
