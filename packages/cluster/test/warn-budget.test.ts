import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { warnBudgetHook } from '../src/log/warn-budget';

interface Line {
  level: number;
  msg: string;
  dropped?: number;
  message?: string;
}

/** A pino logger with the hook (a window of `windowMs` real ms, judged by the settable clock), and what it wrote. */
function capture(linesPerWindow: number, windowMs: number) {
  const clock = { now: 1_000_000 };
  const lines: Line[] = [];
  let onLine = (): void => undefined;
  const logger = pino(
    { level: 'debug', hooks: { logMethod: warnBudgetHook({ linesPerWindow, windowMs }, () => clock.now) } },
    {
      write: (text: string) => {
        lines.push(JSON.parse(text) as Line);
        onLine();
      },
    },
  );
  const nextLine = (): Promise<void> => new Promise((resolve) => (onLine = resolve));
  return { logger, lines, clock, nextLine };
}

const count = (lines: Line[], msg: string, level = 40): number => lines.filter((line) => line.msg === msg && line.level === level).length;

describe('warnBudgetHook', () => {
  it('writes the first lines of one warning in a window, then only counts them and says how many at the window end', async () => {
    const { logger, lines, nextLine } = capture(3, 50);
    const child = logger.child({ partition: 'p0' });
    for (let i = 0; i < 10; i++) child.warn({ requestId: `r${i}` }, 'request failed');
    logger.warn('another warning');
    for (let i = 0; i < 10; i++) logger.error({ i }, 'request failed');
    for (let i = 0; i < 10; i++) logger.info({ i }, 'request failed');
    assert.equal(count(lines, 'request failed'), 3, 'three warnings of the flood');
    assert.equal(count(lines, 'another warning'), 1, 'another message has its own budget');
    assert.equal(count(lines, 'request failed', 50), 10, 'errors are never held back');
    assert.equal(count(lines, 'request failed', 30), 10, 'info is --log-level business');
    // The hook's timer is unref'd (it must not keep a process up): keep this one up while it runs.
    const keepAlive = setInterval(() => undefined, 1000);
    await nextLine();
    clearInterval(keepAlive);
    const last = lines.at(-1)!;
    assert.deepEqual({ level: last.level, dropped: last.dropped, message: last.message }, { level: 40, dropped: 7, message: 'request failed' });
    assert.match(last.msg, /^7 more "request failed" warnings in 0\.05 s were not written$/);
  });

  it('starts a new window once the last is over, and says nothing when nothing was held back', () => {
    const { logger, lines, clock } = capture(2, 60_000);
    logger.warn('stepping down');
    logger.warn('stepping down');
    clock.now += 60_000;
    logger.warn('stepping down');
    logger.warn('stepping down');
    assert.equal(count(lines, 'stepping down'), 4);
    assert.equal(lines.length, 4, 'no summary line');
  });
});
