import type { LogEntry } from '../replication/entry';
import type { SnapshotSource } from '../replication/messages';
import type { ExpiryCandidate, KvStore, SnapshotRecord, StoredValue } from '../replication/kv-store';
import { ExpiryQueue } from './expiry-queue';
import type { LmdbEngine } from './lmdb-engine';
import { decodeStateValue, encodeStateValue } from './record-codec';

/** Keys looked at per step of the scan for values with a TTL: each step walks on from where the last stopped, so it never stalls the event loop for long. */
const SCAN_KEYS = 20_000;

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
  /** Values with a TTL written since the process started, and those the scan has found. */
  private readonly expiries = new ExpiryQueue();
  /**
   * Where the scan for values with a TTL that were on disk before this
   * process started goes on; null once it has seen every key (later writes
   * are queued as they are applied).
   */
  private scanFrom: string | undefined | null = undefined;

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

  get(key: string): StoredValue | undefined {
    const pending = this.overlay.get(key);
    return (pending !== undefined ? pending : this.read(key)) ?? undefined;
  }

  apply(entry: LogEntry): void {
    if (entry.seq <= this.appliedSeq) throw new Error(`entry ${entry.seq} applied twice (applied ${this.appliedSeq})`);
    const { op } = entry;
    if (op.type === 'put') this.write(op.key, { value: op.value, version: entry.seq, expiresAt: op.expiresAt });
    else if (op.type === 'delete') this.write(op.key, null);
    else if (op.type === 'expire' && this.get(op.key)?.version === op.version) this.write(op.key, null);
    this.appliedSeq = entry.seq;
    this.appliedEpoch = entry.epoch;
    this.engine.putMeta('applied', { seq: entry.seq, epoch: entry.epoch });
  }

  /** What is committed on disk, read in one transaction: the overlay's newer writes are not in it, and neither is their seq. */
  openSnapshot(): SnapshotSource {
    const view = this.engine.readView();
    const applied = view.meta.applied ?? { seq: 0, epoch: 0 };
    function* records(): Generator<SnapshotRecord> {
      for (const { key, value } of view.entries) yield { key, ...decodeStateValue(key, value) };
    }
    return { seq: applied.seq, epoch: applied.epoch, records: records(), close: () => view.done() };
  }

  settled(): Promise<void> {
    return this.engine.flush();
  }

  beginRestore(): void {
    this.overlay.clear();
    this.expiries.clear();
    this.scanFrom = null;
    this.engine.putMeta('installing', true);
    this.engine.clearState();
    this.appliedSeq = 0;
    this.appliedEpoch = 0;
    this.engine.putMeta('applied', { seq: 0, epoch: 0 });
  }

  restoreRecords(records: readonly SnapshotRecord[]): void {
    for (const { key, value, version, expiresAt } of records) {
      this.engine.putState(key, encodeStateValue(key, { value, version, expiresAt }));
      if (expiresAt !== null) this.expiries.push({ key, version, expiresAt });
    }
  }

  finishRestore(seq: number, epoch: number): void {
    this.appliedSeq = seq;
    this.appliedEpoch = epoch;
    this.engine.putMeta('applied', { seq, epoch });
    this.engine.removeMeta('installing');
  }

  dueForExpiry(nowMs: number, limit: number): ExpiryCandidate[] {
    if (this.scanFrom !== null) this.scanStep();
    return this.expiries.due(nowMs, limit, ({ key, version }) => this.get(key)?.version === version);
  }

  /** Queues the values with a TTL among the next SCAN_KEYS keys on disk. */
  private scanStep(): void {
    let seen = 0;
    let last: string | undefined;
    const from = this.scanFrom;
    const range = this.engine.state.getRange({ snapshot: false, ...(from === undefined || from === null ? {} : { start: from, exclusiveStart: true }) });
    for (const { key, value } of range) {
      last = key;
      const { version, expiresAt } = decodeStateValue(key, value);
      if (expiresAt !== null) this.expiries.push({ key, version, expiresAt });
      if (++seen >= SCAN_KEYS) break;
    }
    this.scanFrom = seen >= SCAN_KEYS ? last : null;
  }

  private read(key: string): StoredValue | undefined {
    const record = this.engine.state.get(key);
    return record === undefined ? undefined : decodeStateValue(key, record);
  }

  private write(key: string, stored: StoredValue | null): void {
    this.overlay.set(key, stored);
    if (stored && stored.expiresAt !== null) this.expiries.push({ key, version: stored.version, expiresAt: stored.expiresAt });
    const writeId = stored ? this.engine.putState(key, encodeStateValue(key, stored)) : this.engine.removeState(key);
    this.engine.whenDurable(writeId, () => {
      if (this.overlay.get(key) === stored) this.overlay.delete(key);
    });
  }
}
