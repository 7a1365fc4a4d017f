import type { LogEntry } from '../replication/entry';
import { MemoryLog, type ReplicationLog } from '../replication/log';
import type { LmdbEngine } from './lmdb-engine';
import { encodeLogEntry } from './record-codec';

/**
 * The replication log on disk. Reads come from an in-memory window of the
 * same entries (the log is kept short by compaction), writes go to LMDB in
 * order, and `durableSeq` follows the disk: after each durable write it is
 * the log's end as of that write, lowered by any truncation queued since.
 */
export class DurableLog implements ReplicationLog {
  private readonly window = new MemoryLog();
  private durable: number;
  /** Not yet durable writes and the log's end right after each. */
  private readonly unsettled: Array<{ writeId: number; lastSeq: number }> = [];

  constructor(
    private readonly engine: LmdbEngine,
    base: { seq: number; epoch: number },
    entries: readonly LogEntry[],
  ) {
    this.window.resetTo(base.seq, base.epoch);
    this.window.append(entries);
    this.durable = this.window.lastSeq;
    engine.onDurable((writeId) => this.settle(writeId));
  }

  get baseSeq(): number {
    return this.window.baseSeq;
  }

  get baseEpoch(): number {
    return this.window.baseEpoch;
  }

  get lastSeq(): number {
    return this.window.lastSeq;
  }

  get lastEpoch(): number {
    return this.window.lastEpoch;
  }

  get durableSeq(): number {
    return this.durable;
  }

  get bytes(): number {
    return this.window.bytes;
  }

  epochAt(seq: number): number | undefined {
    return this.window.epochAt(seq);
  }

  entryAt(seq: number): LogEntry | undefined {
    return this.window.entryAt(seq);
  }

  slice(fromSeq: number, maxEntries: number, maxBytes: number): LogEntry[] {
    return this.window.slice(fromSeq, maxEntries, maxBytes);
  }

  append(entries: readonly LogEntry[]): void {
    this.window.append(entries);
    let writeId = 0;
    for (const entry of entries) writeId = this.engine.putLog(entry.seq, encodeLogEntry(entry));
    if (writeId) this.unsettled.push({ writeId, lastSeq: this.window.lastSeq });
  }

  truncateFrom(seq: number): void {
    const last = this.window.lastSeq;
    this.window.truncateFrom(seq);
    let writeId = 0;
    for (let removed = seq; removed <= last; removed++) writeId = this.engine.removeLog(removed);
    if (writeId) this.unsettled.push({ writeId, lastSeq: this.window.lastSeq });
    this.durable = Math.min(this.durable, this.window.lastSeq);
  }

  compactTo(seq: number): void {
    const oldBase = this.window.baseSeq;
    this.window.compactTo(seq);
    for (let removed = oldBase + 1; removed <= this.window.baseSeq; removed++) this.engine.removeLog(removed);
    this.engine.putMeta('base', { seq: this.window.baseSeq, epoch: this.window.baseEpoch });
  }

  resetTo(seq: number, epoch: number): void {
    for (let removed = this.window.baseSeq + 1; removed <= this.window.lastSeq; removed++) this.engine.removeLog(removed);
    this.window.resetTo(seq, epoch);
    const writeId = this.engine.putMeta('base', { seq, epoch });
    this.unsettled.push({ writeId, lastSeq: seq });
    this.durable = Math.min(this.durable, seq);
  }

  flush(): Promise<void> {
    return this.engine.flush();
  }

  private settle(writeId: number): void {
    let settledLast: number | undefined;
    while (this.unsettled.length > 0 && this.unsettled[0]!.writeId <= writeId) settledLast = this.unsettled.shift()!.lastSeq;
    if (settledLast === undefined) return;
    // Entries a later (not yet durable) truncation removed are not the ones on disk.
    this.durable = Math.min(settledLast, ...this.unsettled.map((write) => write.lastSeq));
  }
}
