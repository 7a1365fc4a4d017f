/** Time as a parameter, so the replication core runs under a fake clock in tests. */
export interface Clock {
  /** Wall-clock milliseconds: stamps TTLs and judges expiry. */
  now(): number;
  /** Milliseconds from an arbitrary origin that never jumps (NTP steps do not move it): leases are measured on it. */
  monotonic(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * TEST ONLY — never set it in production. A whole number of milliseconds
 * (negative allowed) added to this process's wall clock: `systemClock.now()`,
 * which stamps TTLs and judges expiry, moves; timers do not. The chaos runner
 * gives each replica its own offset to make their clocks disagree. Read once,
 * when this module loads.
 */
const TEST_CLOCK_OFFSET_ENV = 'KV_TEST_CLOCK_OFFSET_MS';

/** The offset `raw` (the variable's value) asks for; a malformed one is refused through `warn` and ignored. */
export function testClockOffset(raw: string | undefined, warn: (message: string) => void): number {
  if (raw === undefined || raw.trim() === '') return 0;
  const offset = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(offset)) {
    warn(`ignoring ${TEST_CLOCK_OFFSET_ENV}="${raw}": not a whole number of milliseconds`);
    return 0;
  }
  warn(`${TEST_CLOCK_OFFSET_ENV}: this process's clock is off by ${offset} ms (test only)`);
  return offset;
}

/** The process's wall clock, `offsetMs` ahead (behind, if negative); timers are real. */
export function wallClock(offsetMs = 0): Clock {
  return {
    now: () => Date.now() + offsetMs,
    monotonic: () => performance.now(),
    setTimeout: (callback, ms) => {
      const timer = setTimeout(callback, ms);
      timer.unref();
      return timer;
    },
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}

export const systemClock: Clock = wallClock(
  testClockOffset(process.env[TEST_CLOCK_OFFSET_ENV], (message) => process.stderr.write(`kvserver: ${message}\n`)),
);

export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
