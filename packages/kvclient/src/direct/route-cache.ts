import type { RoutingView } from '@kvstore/protocol';
import { DirectRoutes } from './direct-routes';

/** Refreshes never follow each other closer than this, whatever fails: a gate without a ring is not asked in a loop. */
const MIN_REFRESH_GAP_MS = 100;

/**
 * Keeps a client's routing table fresh: loaded on first use, refreshed in
 * the background once it is `refreshMs` old, and at once when an answer
 * shows it wrong (`invalidate`: NOT_LEADER, WRONG_PARTITION, a replica that
 * does not answer). While it is known wrong, or unknown, `routes()` gives
 * none and requests take the gate, which waits for the cluster itself;
 * no request ever waits for a refresh but the very first.
 */
export class RouteCache {
  private current: DirectRoutes | undefined;
  private loadedAt = -Infinity;
  private triedAt = -Infinity;
  private wrong = false;
  /** Counts invalidations, so that a load that was under way when one came does not clear it. */
  private invalidations = 0;
  private loading: Promise<void> | undefined;
  /** A refresh put off by the gap between refreshes. */
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly load: () => Promise<RoutingView>,
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The table to route by now, or undefined: take the gate. */
  async routes(): Promise<DirectRoutes | undefined> {
    if (!this.current) await this.refresh();
    else if (this.wrong || this.now() - this.loadedAt >= this.refreshMs) void this.refresh();
    return this.wrong ? undefined : this.current;
  }

  /** An answer showed the table wrong; `ringVersion`: the ring a replica judged by, when it said (one older than ours: the replica lags, not us). */
  invalidate(ringVersion?: number): void {
    if (ringVersion !== undefined && this.current && ringVersion < this.current.ringVersion) return;
    this.wrong = true;
    this.invalidations++;
    void this.refresh();
  }

  /**
   * A replica of `from` answered NOT_LEADER naming `url`: the table with
   * that leader (see DirectRoutes.withLeader), in use from now on unless a
   * newer table came meanwhile, and read again from a gate in the
   * background; undefined when `url` is no member (then invalidate).
   */
  leaderMoved(from: DirectRoutes, partition: string, url: string): DirectRoutes | undefined {
    const moved = from.withLeader(partition, url);
    if (!moved) return undefined;
    if (this.current === from) this.current = moved;
    void this.refresh();
    return moved;
  }

  /** Drops a refresh that is put off (the client is closing). */
  stop(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
  }

  private refresh(): Promise<void> {
    if (this.loading) return this.loading;
    const gap = this.triedAt + MIN_REFRESH_GAP_MS - this.now();
    if (gap > 0) {
      this.pending ??= setTimeout(() => {
        this.pending = undefined;
        void this.refresh();
      }, gap).unref();
      return Promise.resolve();
    }
    this.triedAt = this.now();
    const invalidations = this.invalidations;
    this.loading = this.load()
      .then((view) => this.adopt(new DirectRoutes(view), invalidations))
      // No table (no gate answered, or not with one): the gate takes the requests until a refresh succeeds.
      .catch(() => undefined)
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  private adopt(routes: DirectRoutes, invalidationsBefore: number): void {
    // A gate that lags another may hand back an older ring: keep the newer one.
    if (this.current && routes.ringVersion < this.current.ringVersion) return;
    this.current = routes;
    this.loadedAt = this.now();
    if (this.invalidations === invalidationsBefore) this.wrong = false;
  }
}
