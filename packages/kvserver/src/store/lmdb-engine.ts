import { open, type Database, type RootDatabase } from 'lmdb';
import { join } from 'node:path';
import type { SlotStateJson } from './slot-state';

export const lmdbPath = (dataDir: string): string => join(dataDir, 'kv.lmdb');

/** Where the log's base and the state's applied point are kept; JSON values in the `meta` database. */
export interface StorageMeta {
  /** The last log entry folded away (compacted, or the snapshot the log restarted after). */
  base?: { seq: number; epoch: number };
  /** The last entry applied to the stored state. */
  applied?: { seq: number; epoch: number };
  /** Set while a snapshot is being installed: the state is then incomplete. */
  installing?: boolean;
  /** The state's fenced slots and version offset, written with `applied` whenever they change; absent means none. */
  slots?: SlotStateJson;
}

/**
 * The LMDB environment of one replica: three databases in one file, so that
 * writes to the log, the state and the meta share transactions. Every write
 * goes through here, in call order (strictAsyncOrder), and all writes made
 * in one event turn commit in one transaction with one fsync: group commit.
 * The first failed write (a full disk, say) is kept: from then on the
 * engine refuses to pretend anything is durable.
 */
export class LmdbEngine {
  readonly log: Database<Buffer, number>;
  readonly state: Database<Buffer, string>;
  private readonly meta: Database<StorageMeta[keyof StorageMeta], string>;
  private lastWrite: Promise<unknown> = Promise.resolve();
  /** The promise LMDB gave the latest write, and the last of our writes it covers: writes of one transaction share one. */
  private group: { promise: Promise<unknown>; lastWriteId: number; settled: boolean } | undefined;
  /** Meta values written once per transaction, just before it commits (see putMetaAtCommit). */
  private atCommit: Pick<StorageMeta, 'slots' | 'applied'> | undefined;
  private nextWriteId = 1;
  private durableWriteId = 0;
  private readonly durableListeners: Array<(writeId: number) => void> = [];
  failure: Error | undefined;
  private readonly commitListeners: Array<(writes: number, seconds: number) => void> = [];
  /** With commit listeners: the first write of each event turn not yet durable, and when it was made. */
  private readonly turns: Array<{ writeId: number; at: number }> = [];
  private turnOpen = false;
  private commitReported = 0;
  private reportScheduled = false;
  private lastReportAt = 0;

  private constructor(private readonly root: RootDatabase) {
    this.log = root.openDB<Buffer, number>({ name: 'log', encoding: 'binary' });
    this.state = root.openDB<Buffer, string>({ name: 'state', encoding: 'binary' });
    this.meta = root.openDB({ name: 'meta', encoding: 'json' });
    root.on('beforecommit', () => this.writeAtCommitMeta());
  }

  static open(dataDir: string, options: { fsync: boolean }): LmdbEngine {
    const root = open({
      path: lmdbPath(dataDir),
      maxDbs: 4,
      // Resolve writes only once they are on disk: the default resolves at commit, before the fsync.
      overlappingSync: false,
      noSync: !options.fsync,
      strictAsyncOrder: true,
    });
    return new LmdbEngine(root);
  }

  readMeta(): StorageMeta {
    return {
      base: this.meta.get('base') as StorageMeta['base'],
      applied: this.meta.get('applied') as StorageMeta['applied'],
      installing: this.meta.get('installing') as StorageMeta['installing'],
      slots: this.meta.get('slots') as StorageMeta['slots'],
    };
  }

  putMeta<K extends keyof StorageMeta>(name: K, value: NonNullable<StorageMeta[K]>): number {
    this.writeAtCommitMeta();
    return this.track(this.meta.put(name, value));
  }

  /**
   * Sets a meta value that changes with every applied entry: only its last
   * value in an event turn is written, once, as the turn's writes are about
   * to commit (LMDB's beforecommit), so it still shares their transaction.
   * Any other meta write, clear or flush writes it first, so that it is
   * never behind them on disk (the recovery invariant base <= applied).
   */
  putMetaAtCommit<K extends 'slots' | 'applied'>(name: K, value: NonNullable<StorageMeta[K]>): void {
    if (!this.atCommit) {
      this.atCommit = {};
      // A turn that writes nothing else has no commit of its own to join: write them at its end.
      setImmediate(() => this.writeAtCommitMeta());
    }
    this.atCommit[name] = value;
  }

  removeMeta(name: keyof StorageMeta): number {
    this.writeAtCommitMeta();
    return this.track(this.meta.remove(name));
  }

  putLog(seq: number, record: Buffer): number {
    return this.track(this.log.put(seq, record));
  }

  removeLog(seq: number): number {
    return this.track(this.log.remove(seq));
  }

  putState(key: string, record: Buffer): number {
    return this.track(this.state.put(key, record));
  }

  removeState(key: string): number {
    return this.track(this.state.remove(key));
  }

  clearState(): number {
    this.writeAtCommitMeta();
    return this.track(this.state.clearAsync());
  }

  clearLog(): number {
    this.writeAtCommitMeta();
    return this.track(this.log.clearAsync());
  }

  /** Resolves once every write made so far is durable; rejects if the disk refused one. */
  flush(): Promise<void> {
    this.writeAtCommitMeta();
    if (this.failure) return Promise.reject(this.failure);
    return this.lastWrite.then(() => {
      if (this.failure) throw this.failure;
    });
  }

  /** Called with the id of each write as it becomes durable, in order. */
  onDurable(listener: (writeId: number) => void): void {
    this.durableListeners.push(listener);
  }

  /** A consistent read view for a long scan (a snapshot for a follower); call `done` when finished. */
  readView(): { meta: StorageMeta; entries: Iterable<{ key: string; value: Buffer }>; done(): void } {
    const transaction = this.root.useReadTransaction();
    const applied = this.meta.get('applied', { transaction }) as StorageMeta['applied'];
    const slots = this.meta.get('slots', { transaction }) as StorageMeta['slots'];
    return {
      meta: { applied, slots },
      entries: this.state.getRange({ transaction }) as Iterable<{ key: string; value: Buffer }>,
      done: () => transaction.done(),
    };
  }

  close(): Promise<void> {
    // Now, or its fallback would write to a closed environment (which crashes lmdb-js).
    this.writeAtCommitMeta();
    return this.root.close();
  }

  /**
   * Called once per group of writes that became durable together (one
   * transaction and its fsync): how many writes, and how long since the
   * first of them was made.
   */
  onDurableBatch(listener: (writes: number, seconds: number) => void): void {
    // Writes made durable before anyone listened are no group of theirs.
    if (this.commitListeners.length === 0) {
      this.commitReported = this.durableWriteId;
      this.lastReportAt = performance.now();
    }
    this.commitListeners.push(listener);
  }

  /** Called after each write transaction commits (for measuring group commit). */
  onCommit(listener: () => void): void {
    this.root.on('aftercommit', listener);
  }


  private reportDurableBatch(): void {
    this.reportScheduled = false;
    const writes = this.durableWriteId - this.commitReported;
    if (writes <= 0) return;
    this.commitReported = this.durableWriteId;
    let first: number | undefined;
    while (this.turns.length > 0 && this.turns[0]!.writeId <= this.durableWriteId) {
      const turn = this.turns.shift()!;
      first ??= turn.at;
    }
    // A turn whose first write was in the group before: timed from that group's report.
    const now = performance.now();
    const seconds = (now - (first ?? this.lastReportAt)) / 1000;
    this.lastReportAt = now;
    for (const listener of this.commitListeners) listener(writes, seconds);
  }

  private writeAtCommitMeta(): void {
    if (!this.atCommit) return;
    const { slots, applied } = this.atCommit;
    this.atCommit = undefined;
    // Slots before the applied point that includes them.
    if (slots) this.track(this.meta.put('slots', slots));
    if (applied) this.track(this.meta.put('applied', applied));
  }

  private track(write: Promise<unknown>): number {
    const writeId = this.nextWriteId++;
    if (this.commitListeners.length > 0 && !this.turnOpen) {
      this.turnOpen = true;
      this.turns.push({ writeId, at: performance.now() });
      queueMicrotask(() => (this.turnOpen = false));
    }
    // LMDB settles the writes of one transaction together, through one promise: one handler for them all.
    if (this.group?.promise === write && !this.group.settled) {
      this.group.lastWriteId = writeId;
      return writeId;
    }
    const group = { promise: write, lastWriteId: writeId, settled: false };
    this.group = group;
    this.lastWrite = write.then(
      () => {
        // Any later write LMDB hands the same (settled) promise starts a group of its own.
        group.settled = true;
        if (this.failure) return; // a refused write came first: nothing after it counts as durable
        const writeId = group.lastWriteId;
        this.durableWriteId = writeId;
        for (const listener of this.durableListeners) listener(writeId);
        if (this.commitListeners.length > 0 && !this.reportScheduled) {
          // The writes of one transaction settle in one go: report them once they all have.
          this.reportScheduled = true;
          setImmediate(() => this.reportDurableBatch());
        }
      },
      (error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    return writeId;
  }

}
