import type { Clock } from '../../src/clock';
import { MemoryLog } from '../../src/replication/log';

/**
 * A memory log on a slow disk: each flush becomes durable after a delay on
 * the clock, one after another, and covers everything appended before it
 * (group commit), as DurableLog's writes do. `durableSeq` trails `lastSeq`
 * meanwhile, so a test can see anything acknowledged before it is durable.
 */
export class SlowDiskLog extends MemoryLog {
  private durable = 0;
  private writing: Promise<void> = Promise.resolve();
  /** Flushes under way, each with the log's end it makes durable (lowered by truncations made since). */
  private readonly pending: Array<{ lastSeq: number }> = [];

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: () => number,
  ) {
    super();
  }

  override get durableSeq(): number {
    return this.durable;
  }

  override flush(): Promise<void> {
    const write = { lastSeq: this.lastSeq };
    this.pending.push(write);
    this.writing = this.writing
      .then(() => new Promise<void>((resolve) => this.clock.setTimeout(resolve, this.delayMs())))
      .then(() => {
        this.pending.splice(this.pending.indexOf(write), 1);
        this.durable = Math.max(this.durable, write.lastSeq);
      });
    return this.writing;
  }

  override truncateFrom(seq: number): void {
    super.truncateFrom(seq);
    this.lower(seq - 1);
  }

  override resetTo(seq: number, epoch: number): void {
    super.resetTo(seq, epoch);
    this.lower(seq);
  }

  private lower(seq: number): void {
    this.durable = Math.min(this.durable, seq);
    for (const write of this.pending) write.lastSeq = Math.min(write.lastSeq, seq);
  }
}
