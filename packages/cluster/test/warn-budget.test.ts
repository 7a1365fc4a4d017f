import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import pino from 'pino';
import { warnBudgetHook } from '../src/log/warn-budget';

interface Line {
  level: number;
  msg: string;
  dropped?: number;
  message?: string;
}

/** A pino logger with the hook, writing into `lines` (synchronously), on mocked timers. */
function capture(linesPerWindow: number, windowMs: number) {
  mock.timers.enable({ apis: ['setTimeout'] });
  const lines: Line[] = [];
  const logger = pino({ level: 'debug', hooks: { logMethod: warnBudgetHook({ linesPerWindow, windowMs }) } }, { write: (text: string) => lines.push(JSON.parse(text) as Line) });
  return { logger, lines };
}

const count = (lines: Line[], msg: string, level = 40): number => lines.filter((line) => line.msg === msg && line.level === level).length;

describe('warnBudgetHook', () => {
  it('writes the first lines of one warning in a window, then only counts them and says how many at the window end', (t) => {
    t.after(() => mock.timers.reset());
    const { logger, lines } = capture(3, 50);
    const child = logger.child({ partition: 'p0' });
    for (let i = 0; i < 10; i++) child.warn({ requestId: `r${i}` }, 'request failed');
    logger.warn('another warning');
    for (let i = 0; i < 10; i++) logger.error({ i }, 'request failed');
    for (let i = 0; i < 10; i++) logger.info({ i }, 'request failed');
    assert.equal(count(lines, 'request failed'), 3, 'three warnings of the flood');
    assert.equal(count(lines, 'another warning'), 1, 'another message has its own budget');
    assert.equal(count(lines, 'request failed', 50), 10, 'errors are never held back');
    assert.equal(count(lines, 'request failed', 30), 10, 'info is --log-level business');
    const written = lines.length;
    mock.timers.tick(49);
    assert.equal(lines.length, written, 'nothing said before the window ends');
    mock.timers.tick(1);
    assert.equal(lines.length, written + 1, 'one line for the flood, none for the other message');
    const last = lines.at(-1)!;
    assert.deepEqual({ level: last.level, dropped: last.dropped, message: last.message }, { level: 40, dropped: 7, message: 'request failed' });
    assert.match(last.msg, /^7 more "request failed" warnings in 0\.05 s were not written$/);
  });

  it('starts a new window once the last is over, and says nothing when nothing was held back', (t) => {
    t.after(() => mock.timers.reset());
    const { logger, lines } = capture(2, 60_000);
    logger.warn('stepping down');
    logger.warn('stepping down');
    mock.timers.tick(60_000);
    logger.warn('stepping down');
    logger.warn('stepping down');
    assert.equal(count(lines, 'stepping down'), 4);
    assert.equal(lines.length, 4, 'no summary line');
  });
});
