import type { LoggerOptions } from 'pino';

type LogMethodHook = NonNullable<NonNullable<LoggerOptions['hooks']>['logMethod']>;

/** How many lines of one warning a process writes in a window before it only counts them. */
export interface WarnBudget {
  linesPerWindow: number;
  windowMs: number;
}

/** 20 lines of one warning per 10 s: an incident's first lines in full, then two a second at most, and a count. */
export const DEFAULT_WARN_BUDGET: WarnBudget = { linesPerWindow: 20, windowMs: 10_000 };

const WARN_LEVEL = 40;

/**
 * pino's `logMethod` hook that keeps one warning repeated by the thousand
 * (each 503 of an outage, each frame of a misbehaving client, each forged
 * request) from filling the disk: of the `warn` lines with the same message,
 * a window (from the first of them) writes the first `linesPerWindow`; the
 * rest are counted, and one line at the window's end says how many were not
 * written. Other levels pass untouched: `info` and below are the operator's
 * choice (--log-level), `error` and `fatal` are rare and must never be lost.
 */
export function warnBudgetHook(budget: WarnBudget = DEFAULT_WARN_BUDGET): LogMethodHook {
  /** The messages whose window is open, with the lines written and held back in it. */
  const open = new Map<string, { written: number; dropped: number }>();
  return function logMethod(args, method, level) {
    if (level !== WARN_LEVEL) return method.apply(this, args);
    const [first, second] = args as unknown[];
    const message = typeof first === 'string' ? first : typeof second === 'string' ? second : '';
    let window = open.get(message);
    if (!window) {
      const opened = { written: 0, dropped: 0 };
      open.set(message, (window = opened));
      // Unref'd: a window still open must not keep the process up.
      setTimeout(() => {
        open.delete(message);
        if (opened.dropped === 0) return;
        const seconds = budget.windowMs / 1000;
        method.call(this, { dropped: opened.dropped, windowS: seconds, message }, `${opened.dropped} more "${message}" warnings in ${seconds} s were not written`);
      }, budget.windowMs).unref();
    }
    if (window.written < budget.linesPerWindow) {
      window.written += 1;
      return method.apply(this, args);
    }
    window.dropped += 1;
  };
}
