import { entryBytes, type LogEntry } from './entry';

/**
 * The replication log: a window of entries after a base (the last entry
 * folded into the state and dropped from the log). Sequence numbers are
 * contiguous from base.seq + 1 to lastSeq.
 */
export interface ReplicationLog {
  readonly baseSeq: number;
  readonly baseEpoch: number;
  readonly lastSeq: number;
  readonly lastEpoch: number;
  /** About how many bytes the entries in the log hold (compaction bounds it). */
  readonly bytes: number;
  /** Entries up to here are on disk (or, in memory, simply appended). */
  readonly durableSeq: number;
  /**
   * Resolves once every entry appended (and every truncation made) so far is
   * durable. Calls made while a flush is under way share the next one: this
   * is the group commit. Rejects when the disk refused the write.
   */
  flush(): Promise<void>;
  /** The epoch of the entry at `seq`; the base's epoch at baseSeq; undefined outside the window. */
  epochAt(seq: number): number | undefined;
  entryAt(seq: number): LogEntry | undefined;
  /** Entries from `fromSeq` on, at most `maxEntries` of them and about `maxBytes`. */
  slice(fromSeq: number, maxEntries: number, maxBytes: number): LogEntry[];
  append(entries: readonly LogEntry[]): void;
  /** Drops `seq` and everything after it (an unacknowledged tail the leader does not have). */
  truncateFrom(seq: number): void;
  /** Drops entries up to and including `seq` (they are in the state). */
  compactTo(seq: number): void;
  /** Empties the log and restarts it after a snapshot at (seq, epoch). */
  resetTo(seq: number, epoch: number): void;
}

/** The log in memory, for the memory store and for unit tests. */
export class MemoryLog implements ReplicationLog {
  private entries: LogEntry[] = [];
  baseSeq = 0;
  baseEpoch = 0;
  /** About how many bytes the entries hold. */
  bytes = 0;

  get lastSeq(): number {
    return this.baseSeq + this.entries.length;
  }

  get lastEpoch(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.epoch : this.baseEpoch;
  }

  get durableSeq(): number {
    return this.lastSeq;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  epochAt(seq: number): number | undefined {
    if (seq === this.baseSeq) return this.baseEpoch;
    return this.entryAt(seq)?.epoch;
  }

  entryAt(seq: number): LogEntry | undefined {
    return seq > this.baseSeq ? this.entries[seq - this.baseSeq - 1] : undefined;
  }

  slice(fromSeq: number, maxEntries: number, maxBytes: number): LogEntry[] {
    const out: LogEntry[] = [];
    let bytes = 0;
    for (let seq = Math.max(fromSeq, this.baseSeq + 1); seq <= this.lastSeq && out.length < maxEntries; seq++) {
      const entry = this.entryAt(seq)!;
      bytes += entryBytes(entry);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  append(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      if (entry.seq !== this.lastSeq + 1) throw new Error(`log gap: appending ${entry.seq} after ${this.lastSeq}`);
      if (entry.epoch < this.lastEpoch) throw new Error(`log epoch regression at ${entry.seq}`);
      this.entries.push(entry);
      this.bytes += entryBytes(entry);
    }
  }

  truncateFrom(seq: number): void {
    if (seq <= this.baseSeq) throw new Error(`cannot truncate at ${seq}: entries up to ${this.baseSeq} are in the state`);
    const keep = Math.max(0, Math.min(this.entries.length, seq - this.baseSeq - 1));
    for (const entry of this.entries.slice(keep)) this.bytes -= entryBytes(entry);
    this.entries.length = keep;
  }

  compactTo(seq: number): void {
    if (seq <= this.baseSeq) return;
    const upTo = Math.min(seq, this.lastSeq);
    const epoch = this.epochAt(upTo)!;
    for (const entry of this.entries.slice(0, upTo - this.baseSeq)) this.bytes -= entryBytes(entry);
    this.entries = this.entries.slice(upTo - this.baseSeq);
    this.baseSeq = upTo;
    this.baseEpoch = epoch;
  }

  resetTo(seq: number, epoch: number): void {
    this.entries = [];
    this.bytes = 0;
    this.baseSeq = seq;
    this.baseEpoch = epoch;
  }
}
