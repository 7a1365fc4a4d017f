import type { Clock } from '../clock';

interface Timer {
  id: number;
  dueAt: number;
  callback: () => void;
}

/**
 * A clock for tests that moves only when told to. Timers fire inside
 * `advance` in due order (timers due at the same moment in the order they
 * were set), each with `now()` at its due time, so a run is deterministic.
 */
export class ManualClock implements Clock {
  private nowMs: number;
  private nextId = 1;
  private timers: Timer[] = [];

  constructor(startMs = Date.UTC(2025, 0, 1)) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  monotonic(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, ms: number): number {
    const timer = { id: this.nextId++, dueAt: this.nowMs + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** When the earliest timer falls due, or undefined when none is set. */
  nextDueAt(): number | undefined {
    return this.earliest()?.dueAt;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, including timers set meanwhile. */
  advance(ms: number): void {
    if (ms < 0) throw new Error(`time cannot go back (${ms} ms)`);
    const target = this.nowMs + ms;
    for (let timer = this.takeDue(target); timer; timer = this.takeDue(target)) {
      this.nowMs = Math.max(this.nowMs, timer.dueAt);
      timer.callback();
    }
    this.nowMs = target;
  }

  /** Fires timers until none is left; throws rather than spin on timers that keep setting new ones. */
  runAll(maxSteps = 10_000): void {
    for (let step = 0; this.timers.length > 0; step++) {
      if (step >= maxSteps) throw new Error(`still ${this.timers.length} timer(s) after ${maxSteps} steps`);
      this.advance(this.nextDueAt()! - this.nowMs);
    }
  }

  private earliest(): Timer | undefined {
    let first: Timer | undefined;
    for (const timer of this.timers) {
      if (!first || timer.dueAt < first.dueAt || (timer.dueAt === first.dueAt && timer.id < first.id)) first = timer;
    }
    return first;
  }

  private takeDue(limit: number): Timer | undefined {
    const timer = this.earliest();
    if (!timer || timer.dueAt > limit) return undefined;
    this.timers = this.timers.filter((other) => other !== timer);
    return timer;
  }
}
