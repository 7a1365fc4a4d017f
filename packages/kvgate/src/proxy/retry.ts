import { unavailable, type KvError } from '@kvstore/protocol';
import type { RouteSource } from '../routing/routing-state';
import type { Endpoint } from '../routing/routing-table';

/**
 * What the forwarder and the snapshot proxy share when they retry a request
 * within the gate's deadline: how long to wait, whom a NOT_LEADER's hint may
 * send them to, and what to answer when time runs out.
 */

/** A bound on attempts, whatever the deadline, so a flapping hint cannot spin. */
export const MAX_ATTEMPTS = 50;
/** A replica answers within its own write timeout; this covers the trip there and back. */
export const ATTEMPT_GRACE_MS = 500;
/**
 * How far past the write timeout a request may wait for a slot's cut-over
 * (the source has fenced it, the new owner is not on the ring yet). A
 * cut-over is one batch of a migration, bounded by its size; on a loaded
 * host it can outlast a short write timeout, and it is a pause, not a
 * failure (docs/resharding.md).
 */
export const CUTOVER_WAIT_MS = 5000;
const MAX_BACKOFF_MS = 200;

/** Waits for the next topology change, at most until `deadline`. */
export async function waitForChange(source: Pick<RouteSource, 'changed'>, deadline: number, now: number): Promise<void> {
  const remaining = deadline - now;
  if (remaining > 0) await source.changed(remaining);
}

/** Waits until the ring is another than `version` (other changes do not end the wait), at most until `deadline`. */
export async function waitForNewRing(source: RouteSource, version: number | undefined, deadline: number, now: () => number): Promise<void> {
  for (let remaining = deadline - now(); remaining > 0 && source.table().ringVersion === version; remaining = deadline - now()) {
    await source.changed(remaining);
  }
}

/** Exponential, capped, and cut short by any topology change (a new leader is worth trying at once). */
export async function backOff(source: Pick<RouteSource, 'changed'>, deadline: number, now: number, failures: number): Promise<void> {
  const delay = Math.min(MAX_BACKOFF_MS, 10 * 2 ** Math.min(failures, 5));
  const remaining = deadline - now;
  if (remaining > 0) await source.changed(Math.min(delay, remaining));
}

/** A NOT_LEADER's hint is followed only if it names another live member of the same partition. */
export function trustedHint(source: Pick<RouteSource, 'table'>, partition: string, error: KvError, tried: Endpoint): Endpoint | undefined {
  if (!error.leader) return undefined;
  const member = source.table().memberAt(partition, error.leader);
  return member && member.url !== tried.url ? member : undefined;
}

/** Retries that ran out of time are answered 503: nothing reached a log. */
export function outOfTime(error: KvError, partition: string): KvError {
  if (error.code === 'UNAVAILABLE') return error;
  const message = error.code === 'NOT_LEADER' ? `partition ${partition} has no leader` : `partition ${partition} is unavailable: ${error.message}`;
  return unavailable(message, error);
}
