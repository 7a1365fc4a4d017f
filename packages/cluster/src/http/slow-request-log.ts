export interface SlowRequestLogger {
  info(object: object, message: string): void;
}

/** What a slow-request line says of the request besides its id and duration. */
export interface RequestSummary {
  method: string;
  url: string;
  status: number;
  partition?: string;
  replica?: string;
}

/** Longer urls are cut in the line: a key can be 1024 bytes, percent-encoded three times that. */
const MAX_LOGGED_URL = 300;

/**
 * The data path's request log: one `slow request` line (at info) for a
 * request that took at least `thresholdMs` (0: every request), and nothing
 * else, so a request that is not logged costs one comparison.
 */
export class SlowRequestLog {
  constructor(
    private readonly logger: SlowRequestLogger | undefined,
    private readonly thresholdMs: number,
  ) {}

  /** A request took `durationMs` (the caller's one clock reading, which its metrics share). */
  finished(durationMs: number, requestId: string, summary: () => RequestSummary): void {
    if (durationMs < this.thresholdMs || this.logger === undefined) return;
    const { url, ...rest } = summary();
    const shortUrl = url.length > MAX_LOGGED_URL ? `${url.slice(0, MAX_LOGGED_URL)}...` : url;
    this.logger.info({ requestId, ...rest, url: shortUrl, durationMs: Math.round(durationMs * 10) / 10 }, 'slow request');
  }
}
