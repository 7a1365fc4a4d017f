import { LRUCache } from 'lru-cache';
import type { LogEntry } from '../replication/entry';
import type { SnapshotSource } from '../replication/messages';
import type { ExpiryCandidate, KvStore, SnapshotRecord, StoredValue } from '../replication/kv-store';
import { ExpiryQueue } from './expiry-queue';

/** What Map and LRUCache have in common. */
interface Table {
  readonly size: number;
  get(key: string): StoredValue | undefined;
  set(key: string, value: StoredValue): unknown;
  delete(key: string): boolean;
  clear(): void;
  entries(): Iterable<[string, StoredValue]>;
}

/**
 * State in memory: a plain Map, or with `maxKeys` an LRU cache that evicts
 * the least recently used key. Eviction is local to each replica (this
 * mode is a cache, and says so in the README).
 */
export class MemoryStore implements KvStore {
  appliedSeq = 0;
  appliedEpoch = 0;
  readonly failure: Error | undefined = undefined;
  private readonly table: Table;
  private readonly expiries = new ExpiryQueue();

  constructor(options: { maxKeys?: number | undefined } = {}) {
    this.table = options.maxKeys ? new LRUCache<string, StoredValue>({ max: options.maxKeys }) : new Map();
  }

  get size(): number {
    return this.table.size;
  }

  get(key: string): StoredValue | undefined {
    return this.table.get(key);
  }

  apply(entry: LogEntry): void {
    if (entry.seq <= this.appliedSeq) throw new Error(`entry ${entry.seq} applied twice (applied ${this.appliedSeq})`);
    const { op } = entry;
    if (op.type === 'put') this.set(op.key, { value: op.value, version: entry.seq, expiresAt: op.expiresAt });
    else if (op.type === 'delete') this.table.delete(op.key);
    else if (op.type === 'expire' && this.table.get(op.key)?.version === op.version) this.table.delete(op.key);
    this.appliedSeq = entry.seq;
    this.appliedEpoch = entry.epoch;
  }

  openSnapshot(): SnapshotSource {
    const records: SnapshotRecord[] = [];
    for (const [key, value] of this.table.entries()) records.push({ key, ...value });
    return { seq: this.appliedSeq, epoch: this.appliedEpoch, records, close: () => {} };
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }

  beginRestore(): void {
    this.table.clear();
    this.expiries.clear();
    this.appliedSeq = 0;
    this.appliedEpoch = 0;
  }

  restoreRecords(records: readonly SnapshotRecord[]): void {
    for (const { key, value, version, expiresAt } of records) this.set(key, { value, version, expiresAt });
  }

  finishRestore(seq: number, epoch: number): void {
    this.appliedSeq = seq;
    this.appliedEpoch = epoch;
  }

  dueForExpiry(nowMs: number, limit: number): ExpiryCandidate[] {
    return this.expiries.due(nowMs, limit, ({ key, version }) => this.table.get(key)?.version === version);
  }

  private set(key: string, value: StoredValue): void {
    this.table.set(key, value);
    if (value.expiresAt !== null) this.expiries.push({ key, version: value.version, expiresAt: value.expiresAt });
  }
}
