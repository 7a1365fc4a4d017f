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
}

/**
 * The one retry loop of the client side: runs `attempt` until it succeeds,
 * fails in a way the policy says must not be repeated, or the retries are
 * used up. What is safe to repeat is the caller's to say: only it knows
 * whether the request may have been applied and whether applying it twice
 * matters.
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      return await attempt();
    } catch (failure) {
      if (!(failure instanceof KvError) || round >= policy.retries || !policy.mayRepeat(failure)) throw failure;
    }
    policy.beforeRetry?.();
    await new Promise((resolve) => setTimeout(resolve, policy.delayMs * 2 ** round));
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
