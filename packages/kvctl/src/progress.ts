/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal:
 * piped or redirected output gets nothing from here (the command prints its
 * one-line summary on stdout instead).
 */
import type { ProgramIo } from './io';

export interface Progress {
  /** `done` records so far; `total` when known (an estimate is fine: it only sizes the bar). */
  update(label: string, done: number, total: number | null): void;
  /** Clears the line, so the summary that follows starts on a clean one. */
  finish(): void;
}

const BAR_WIDTH = 24;
const REDRAW_EVERY_MS = 100;

/** One line on stderr, redrawn in place; nothing at all when stderr is not a terminal. */
export interface StatusLine {
  draw(text: string): void;
  /** Clears the line, so what follows starts on a clean one. */
  finish(): void;
}

export function createStatusLine(io: ProgramIo): StatusLine {
  if (io.stderrIsTTY !== true) return { draw: () => undefined, finish: () => undefined };
  let drawn = false;
  return {
    draw(text) {
      drawn = true;
      io.stderr.write(`\r${text}\x1b[K`);
    },
    finish() {
      if (drawn) io.stderr.write('\r\x1b[K');
      drawn = false;
    },
  };
}

export function createProgress(io: ProgramIo, now: () => number = Date.now): Progress {
  const line = createStatusLine(io);
  const started = now();
  let lastDraw = 0;
  return {
    update(label, done, total) {
      const at = now();
      const finished = total !== null && done >= total;
      if (!finished && at - lastDraw < REDRAW_EVERY_MS) return;
      lastDraw = at;
      line.draw(formatProgress(label, done, total, at - started));
    },
    finish: () => line.finish(),
  };
}

/** `label [#######.........] 1,200/3,000 records  4,800/s` (no bar while the total is unknown). */
export function formatProgress(label: string, done: number, total: number | null, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((done * 1000) / elapsedMs) : 0;
  const count = total !== null && total >= done ? `${formatCount(done)}/${formatCount(total)}` : formatCount(done);
  return `${label}${progressBar(done, total)} ${count} records  ${formatCount(rate)}/s`;
}

/** ` [#######.........]`, or nothing while the total is unknown. */
export function progressBar(done: number, total: number | null): string {
  if (total === null || total <= 0) return '';
  const filled = Math.max(0, Math.min(BAR_WIDTH, Math.floor((done / total) * BAR_WIDTH)));
  return ` [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
