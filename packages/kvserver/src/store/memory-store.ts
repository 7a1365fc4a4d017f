import { LRUCache } from 'lru-cache';
import type { LogEntry } from '../replication/entry';
import type { SnapshotSource } from '../replication/messages';
import type { ExpiryCandidate, KvStore, SlotState, SnapshotRecord, StoredValue } from '../replication/kv-store';
import { applyOperation, type KeyTable } from './apply-operation';
import { ExpiryQueue } from './expiry-queue';
import { SlotIndex } from './slot-index';
import { NO_SLOTS } from './slot-state';

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
  private slotState: SlotState = NO_SLOTS;
  private readonly index = new SlotIndex();
  private readonly table: Table;
  private readonly expiries = new ExpiryQueue();
  private readonly keyTable: KeyTable = {
    get: (key) => this.table.get(key),
    set: (key, stored) => this.set(key, stored),
    remove: (key) => this.remove(key),
    keysOf: (slot) => this.index.keysOf(slot),
  };

  constructor(options: { maxKeys?: number | undefined } = {}) {
    this.table = options.maxKeys
      ? new LRUCache<string, StoredValue>({
          max: options.maxKeys,
          // An evicted key leaves the slot index too, or the index would grow with every key ever written.
          dispose: (_value, key, reason) => {
            if (reason === 'evict') this.index.remove(key);
          },
        })
      : new Map();
  }

  get slots(): SlotState {
    return this.slotState;
  }

  get size(): number {
    return this.table.size;
  }

  get(key: string): StoredValue | undefined {
    return this.table.get(key);
  }

  apply(entry: LogEntry): void {
    if (entry.seq <= this.appliedSeq) throw new Error(`entry ${entry.seq} applied twice (applied ${this.appliedSeq})`);
    this.slotState = applyOperation(entry, this.slotState, this.keyTable);
    this.appliedSeq = entry.seq;
    this.appliedEpoch = entry.epoch;
  }

  openSnapshot(): SnapshotSource {
    const records: SnapshotRecord[] = [];
    for (const [key, value] of this.table.entries()) records.push({ key, ...value });
    return { seq: this.appliedSeq, epoch: this.appliedEpoch, slots: this.slotState, records, close: () => {} };
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }

  beginRestore(): void {
    this.table.clear();
    this.index.clear();
    this.expiries.clear();
    this.appliedSeq = 0;
    this.appliedEpoch = 0;
    this.slotState = NO_SLOTS;
  }

  restoreRecords(records: readonly SnapshotRecord[]): void {
    for (const { key, value, version, expiresAt } of records) this.set(key, { value, version, expiresAt });
  }

  finishRestore(seq: number, epoch: number, slots: SlotState): void {
    this.appliedSeq = seq;
    this.appliedEpoch = epoch;
    this.slotState = { fenced: new Set(slots.fenced), versionOffset: slots.versionOffset };
  }

  dueForExpiry(nowMs: number, limit: number): ExpiryCandidate[] {
    return this.expiries.due(nowMs, limit, ({ key, version }) => this.table.get(key)?.version === version);
  }

  keysInSlot(slot: number): number {
    return this.index.count(slot);
  }

  recordsInSlots(slots: readonly number[]): SnapshotRecord[] {
    return this.index.records(slots, (key) => this.table.get(key));
  }

  someKeysInSlots(slots: readonly number[], limit: number): string[] {
    return this.index.someKeys(slots, limit);
  }

  private set(key: string, value: StoredValue): void {
    this.table.set(key, value);
    this.index.add(key);
    if (value.expiresAt !== null) this.expiries.push({ key, version: value.version, expiresAt: value.expiresAt });
  }

  private remove(key: string): void {
    this.table.delete(key);
    this.index.remove(key);
  }
}
