import assert from 'node:assert/strict';
import type { LogEntry, Operation } from '../replication/entry';
import { compactionPoint, logIsOverBounds } from '../replication/compaction';
import { DEFAULT_REPLICATION_OPTIONS, type Logger } from '../replication/types';
import type { DurableLog } from '../store/durable-log';
import type { DurableStore } from '../store/durable-store';
import { recoverStorage, type Recovered } from '../store/recovery';

export interface StorageWriterOptions {
  fsync: boolean;
  logger: Logger;
  /** Stamped on every entry written, as a leader stamps its own. */
  epoch: number;
}

/**
 * A replica's durable storage (--data-dir) written as a leader without
 * followers writes it, for measuring the storage layer on its own: each
 * append is made durable together with every other append of the same
 * event turn (group commit), then applied in sequence order, and the log is
 * compacted by the replica's own rule with the default bounds.
 */
export class StorageWriter {
  private nextSeq: number;

  private constructor(
    private readonly storage: Recovered,
    private readonly epoch: number,
  ) {
    this.nextSeq = storage.log.lastSeq + 1;
  }

  /** Recovers `dataDir` as a starting replica does (recoverStorage), then writes after its last entry. */
  static async open(dataDir: string, options: StorageWriterOptions): Promise<StorageWriter> {
    return new StorageWriter(await recoverStorage(dataDir, options), options.epoch);
  }

  get log(): DurableLog {
    return this.storage.log;
  }

  get store(): DurableStore {
    return this.storage.store;
  }

  /** Called after each LMDB write transaction commits: once per group commit. */
  onCommit(listener: () => void): void {
    this.storage.engine.onCommit(listener);
  }

  /** Appends `ops` as the next entries of the log, waits until they are durable, and applies everything up to them. */
  async appendAndApply(ops: readonly Operation[]): Promise<void> {
    if (ops.length === 0) return;
    const entries = ops.map((op): LogEntry => ({ seq: this.nextSeq++, epoch: this.epoch, op }));
    const { log, store } = this.storage;
    log.append(entries);
    await log.flush();
    const lastSeq = entries.at(-1)!.seq;
    // Writes become durable in order, so everything up to lastSeq is on disk.
    assert.ok(log.durableSeq >= lastSeq, `flush resolved but durableSeq ${log.durableSeq} < ${lastSeq}`);
    for (let seq = store.appliedSeq + 1; seq <= lastSeq; seq++) store.apply(log.entryAt(seq)!);
    if (logIsOverBounds(log, store.appliedSeq, DEFAULT_REPLICATION_OPTIONS)) {
      log.compactTo(compactionPoint(log, store.appliedSeq, DEFAULT_REPLICATION_OPTIONS));
    }
  }

  /** Waits for every write, then closes the LMDB environment. */
  async close(): Promise<void> {
    await this.storage.log.flush();
    await this.storage.engine.close();
  }
}
