import type { LogEntry } from '../replication/entry';
import type { SnapshotSource } from '../replication/messages';
import { isLive, type KvStore, type SnapshotRecord, type StoredValue } from './kv-store';
import type { LmdbEngine } from './lmdb-engine';
import { decodeStateValue, encodeStateValue } from './record-codec';

/** Keys looked at per sweep: a sweep walks on from where the last stopped, so it never stalls the event loop for long. */
const SWEEP_KEYS = 20_000;

/**
 * The key-value state in LMDB. Writes are queued to the engine (they share
 * the log's transactions and fsyncs); until a write is committed, the
 * overlay answers reads for its key, so every applied write is visible at
 * once. The applied point is stored with the state, in the same
 * transactions, so a restart knows exactly how far the state goes.
 */
export class DurableStore implements KvStore {
  appliedSeq: number;
  appliedEpoch: number;
  /** Applied but not yet committed: a value, or null for a delete. */
  private readonly overlay = new Map<string, StoredValue | null>();
  /** Where the next expiry sweep starts; undefined for the beginning. */
  private sweepFrom: string | undefined;

  constructor(
    private readonly engine: LmdbEngine,
    applied: { seq: number; epoch: number },
  ) {
    this.appliedSeq = applied.seq;
    this.appliedEpoch = applied.epoch;
  }

  get failure(): Error | undefined {
    return this.engine.failure;
  }

  get size(): number {
    return (this.engine.state.getStats() as { entryCount: number }).entryCount;
  }

  get(key: string, nowMs: number): StoredValue | undefined {
    const pending = this.overlay.get(key);
    const stored = pending !== undefined ? pending : this.read(key);
    return stored && isLive(stored, nowMs) ? stored : undefined;
  }

  apply(entry: LogEntry): void {
    if (entry.seq <= this.appliedSeq) throw new Error(`entry ${entry.seq} applied twice (applied ${this.appliedSeq})`);
    const { op } = entry;
    if (op.type === 'put') this.write(op.key, { value: op.value, version: entry.seq, expiresAt: op.expiresAt });
    else if (op.type === 'delete') this.write(op.key, null);
    this.appliedSeq = entry.seq;
    this.appliedEpoch = entry.epoch;
    this.engine.putMeta('applied', { seq: entry.seq, epoch: entry.epoch });
  }

  /** What is committed on disk, read in one transaction: the overlay's newer writes are not in it, and neither is their seq. */
  openSnapshot(nowMs: number): SnapshotSource {
    const view = this.engine.readView();
    const applied = view.meta.applied ?? { seq: 0, epoch: 0 };
    function* records(): Generator<SnapshotRecord> {
      for (const { key, value } of view.entries) {
        const stored = decodeStateValue(key, value);
        if (isLive(stored, nowMs)) yield { key, ...stored };
      }
    }
    return { seq: applied.seq, epoch: applied.epoch, records: records(), close: () => view.done() };
  }

  settled(): Promise<void> {
    return this.engine.flush();
  }

  beginRestore(): void {
    this.overlay.clear();
    this.engine.putMeta('installing', true);
    this.engine.clearState();
    this.appliedSeq = 0;
    this.appliedEpoch = 0;
    this.engine.putMeta('applied', { seq: 0, epoch: 0 });
  }

  restoreRecords(records: readonly SnapshotRecord[]): void {
    for (const { key, value, version, expiresAt } of records) this.engine.putState(key, encodeStateValue(key, { value, version, expiresAt }));
  }

  finishRestore(seq: number, epoch: number): void {
    this.appliedSeq = seq;
    this.appliedEpoch = epoch;
    this.engine.putMeta('applied', { seq, epoch });
    this.engine.removeMeta('installing');
  }

  sweepExpired(nowMs: number): number {
    const expired: string[] = [];
    let seen = 0;
    let last: string | undefined;
    const range = this.engine.state.getRange({ snapshot: false, ...(this.sweepFrom === undefined ? {} : { start: this.sweepFrom, exclusiveStart: true }) });
    for (const { key, value } of range) {
      last = key;
      // A key with a write in flight is the overlay's: that write decides.
      if (!this.overlay.has(key) && !isLive(decodeStateValue(key, value), nowMs)) expired.push(key);
      if (++seen >= SWEEP_KEYS) break;
    }
    this.sweepFrom = seen >= SWEEP_KEYS ? last : undefined;
    for (const key of expired) this.engine.removeState(key);
    return expired.length;
  }

  private read(key: string): StoredValue | undefined {
    const record = this.engine.state.get(key);
    return record === undefined ? undefined : decodeStateValue(key, record);
  }

  private write(key: string, stored: StoredValue | null): void {
    this.overlay.set(key, stored);
    const writeId = stored ? this.engine.putState(key, encodeStateValue(key, stored)) : this.engine.removeState(key);
    this.engine.whenDurable(writeId, () => {
      if (this.overlay.get(key) === stored) this.overlay.delete(key);
    });
  }
}
