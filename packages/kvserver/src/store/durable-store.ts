import type { LogEntry } from '../replication/entry';
import type { SnapshotSource } from '../replication/messages';
import type { ExpiryCandidate, KvStore, SlotState, SnapshotRecord, StoredValue } from '../replication/kv-store';
import { applyOperation, type KeyTable } from './apply-operation';
import { ExpiryQueue } from './expiry-queue';
import type { LmdbEngine } from './lmdb-engine';
import { decodeStateValue, encodeStateValue } from './record-codec';
import { SlotIndex } from './slot-index';
import { NO_SLOTS, slotStateFromJson, slotStateToJson } from './slot-state';

/** Keys looked at per step of the scan for values with a TTL: each step walks on from where the last stopped, so it never stalls the event loop for long. */
const SCAN_KEYS = 20_000;

/**
 * The key-value state in LMDB. Writes are queued to the engine (they share
 * the log's transactions and fsyncs); until a write is committed, the
 * overlay answers reads for its key, so every applied write is visible at
 * once. The applied point is stored with the state, in the same
 * transactions (once per transaction, not per entry), so a restart knows
 * exactly how far the state goes; so is the slot state, whenever an entry
 * changes it. The slot index (keys of
 * each slot) lives in memory: built from the keys on disk at open, then
 * kept on every applied write.
 */
export class DurableStore implements KvStore {
  appliedSeq: number;
  appliedEpoch: number;
  /** Applied but not yet committed: a value, or null for a delete. */
  private readonly overlay = new Map<string, StoredValue | null>();
  /** The overlay's writes not yet durable, in write order (one engine listener settles them, not a callback per write). */
  private unsettled: Array<{ writeId: number; key: string; stored: StoredValue | null }> = [];
  /** Values with a TTL written since the process started, and those the scan has found. */
  private readonly expiries = new ExpiryQueue();
  /**
   * Where the scan for values with a TTL that were on disk before this
   * process started goes on; null once it has seen every key (later writes
   * are queued as they are applied).
   */
  private scanFrom: string | undefined | null = undefined;
  private slotState: SlotState;
  private readonly index = new SlotIndex();
  private readonly keyTable: KeyTable = {
    get: (key) => this.get(key),
    set: (key, stored) => this.write(key, stored),
    remove: (key) => this.write(key, null),
    keysOf: (slot) => this.index.keysOf(slot),
  };

  constructor(
    private readonly engine: LmdbEngine,
    applied: { seq: number; epoch: number },
    slots: SlotState,
  ) {
    this.appliedSeq = applied.seq;
    this.appliedEpoch = applied.epoch;
    this.slotState = slots;
    for (const key of engine.state.getKeys({ snapshot: false })) this.index.add(key);
    engine.onDurable((writeId) => this.settle(writeId));
  }

  get slots(): SlotState {
    return this.slotState;
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
    const slots = applyOperation(entry, this.slotState, this.keyTable);
    // Written once per transaction, with the state writes of every entry applied in it.
    if (slots !== this.slotState) this.engine.putMetaAtCommit('slots', slotStateToJson(slots));
    this.slotState = slots;
    this.appliedSeq = entry.seq;
    this.appliedEpoch = entry.epoch;
    this.engine.putMetaAtCommit('applied', { seq: entry.seq, epoch: entry.epoch });
  }

  /** What is committed on disk, read in one transaction: the overlay's newer writes are not in it, and neither is their seq. */
  openSnapshot(): SnapshotSource {
    const view = this.engine.readView();
    const applied = view.meta.applied ?? { seq: 0, epoch: 0 };
    function* records(): Generator<SnapshotRecord> {
      for (const { key, value } of view.entries) yield { key, ...decodeStateValue(key, value) };
    }
    const slots = slotStateFromJson(view.meta.slots, 'the stored slot state');
    return { seq: applied.seq, epoch: applied.epoch, slots, records: records(), close: () => view.done() };
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
    this.index.clear();
    this.appliedSeq = 0;
    this.appliedEpoch = 0;
    this.slotState = NO_SLOTS;
    this.engine.putMeta('applied', { seq: 0, epoch: 0 });
    this.engine.removeMeta('slots');
  }

  restoreRecords(records: readonly SnapshotRecord[]): void {
    for (const { key, value, version, expiresAt } of records) {
      this.engine.putState(key, encodeStateValue(key, { value, version, expiresAt }));
      this.index.add(key);
      if (expiresAt !== null) this.expiries.push({ key, version, expiresAt });
    }
  }

  finishRestore(seq: number, epoch: number, slots: SlotState): void {
    this.appliedSeq = seq;
    this.appliedEpoch = epoch;
    this.slotState = { fenced: new Set(slots.fenced), versionOffset: slots.versionOffset };
    this.engine.putMeta('slots', slotStateToJson(slots));
    this.engine.putMeta('applied', { seq, epoch });
    this.engine.removeMeta('installing');
  }

  dueForExpiry(nowMs: number, limit: number): ExpiryCandidate[] {
    if (this.scanFrom !== null) this.scanStep();
    return this.expiries.due(nowMs, limit, ({ key, version }) => this.get(key)?.version === version);
  }

  keysInSlot(slot: number): number {
    return this.index.count(slot);
  }

  /** Read through the overlay: what is applied, committed or not. */
  recordsInSlots(slots: readonly number[]): SnapshotRecord[] {
    return this.index.records(slots, (key) => this.get(key));
  }

  someKeysInSlots(slots: readonly number[], limit: number): string[] {
    return this.index.someKeys(slots, limit);
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
    if (stored) this.index.add(key);
    else this.index.remove(key);
    if (stored && stored.expiresAt !== null) this.expiries.push({ key, version: stored.version, expiresAt: stored.expiresAt });
    const writeId = stored ? this.engine.putState(key, encodeStateValue(key, stored)) : this.engine.removeState(key);
    this.unsettled.push({ writeId, key, stored });
  }

  /** Committed writes leave the overlay, unless a later write of the same key is still pending. */
  private settle(writeId: number): void {
    let settled = 0;
    for (const write of this.unsettled) {
      if (write.writeId > writeId) break;
      if (this.overlay.get(write.key) === write.stored) this.overlay.delete(write.key);
      settled++;
    }
    if (settled > 0) this.unsettled = this.unsettled.slice(settled);
  }
}
