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

/** Messages tracked before those whose window is over are forgotten (messages can hold names). */
const MAX_TRACKED = 1000;

interface Tally {
  windowEnd: number;
  written: number;
  dropped: number;
}

/**
 * pino's `logMethod` hook that keeps one warning repeated by the thousand
 * (each 503 of an outage, each frame of a misbehaving client, each forged
 * request) from filling the disk: of the `warn` lines with the same message,
 * a window writes the first `linesPerWindow`; the rest are counted, and one
 * line at the window's end says how many were not written. Other levels
 * pass untouched: `info` and below are the operator's choice (--log-level),
 * `error` and `fatal` are rare and must never be lost.
 */
export function warnBudgetHook(budget: WarnBudget = DEFAULT_WARN_BUDGET, now: () => number = Date.now): LogMethodHook {
  const tallies = new Map<string, Tally>();
  const forgetOld = (at: number): void => {
    for (const [message, tally] of tallies) if (tally.windowEnd <= at && tally.dropped === 0) tallies.delete(message);
  };
  return function logMethod(args, method, level) {
    if (level !== WARN_LEVEL) return method.apply(this, args);
    const [first, second] = args as unknown[];
    const message = typeof first === 'string' ? first : typeof second === 'string' ? second : '';
    const at = now();
    let tally = tallies.get(message);
    if (tally && tally.windowEnd <= at && tally.dropped === 0) {
      tallies.delete(message);
      tally = undefined;
    }
    if (!tally) {
      if (tallies.size >= MAX_TRACKED) forgetOld(at);
      tally = { windowEnd: at + budget.windowMs, written: 0, dropped: 0 };
      tallies.set(message, tally);
    }
    if (tally.written < budget.linesPerWindow) {
      tally.written += 1;
      return method.apply(this, args);
    }
    tally.dropped += 1;
    if (tally.dropped > 1) return;
    // The first line dropped in this window: say at its end how many were.
    const counted = tally;
    setTimeout(() => {
      tallies.delete(message);
      const seconds = budget.windowMs / 1000;
      method.call(this, { dropped: counted.dropped, windowS: seconds, message }, `${counted.dropped} more "${message}" warnings in ${seconds} s were not written`);
    }, Math.max(0, counted.windowEnd - at)).unref();
  };
}
