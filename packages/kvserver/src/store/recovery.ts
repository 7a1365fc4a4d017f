import type { LogEntry } from '../replication/entry';
import type { SlotState } from '../replication/kv-store';
import type { Logger } from '../replication/types';
import { DurableLog } from './durable-log';
import { DurableStore } from './durable-store';
import { LmdbEngine, lmdbPath, type StorageMeta } from './lmdb-engine';
import { lmdbFileDamage } from './lmdb-file-check';
import { CorruptRecordError, decodeLogEntry } from './record-codec';
import { slotStateFromJson } from './slot-state';

export interface Recovered {
  engine: LmdbEngine;
  log: DurableLog;
  store: DurableStore;
  /**
   * The data dir held a complete state: the replica may keep its place in
   * the in-sync set. False for a new dir, or one whose snapshot install was
   * cut short (it was wiped).
   */
  holdsData: boolean;
}

/** Corruption that recovery must not paper over: the replica refuses to start. */
export class UnrecoverableStorageError extends Error {
  override name = 'UnrecoverableStorageError';
}

/**
 * Opens a replica's storage and checks it before the replica serves
 * anything: every log record after the base must pass its checksum and the
 * sequence must have no gap. A bad record at the very end is a write torn by
 * a crash: it was never acknowledged, so it is cut off (and logged). A bad
 * record with good ones after it is corruption: the replica stops.
 */
export async function recoverStorage(dataDir: string, options: { fsync: boolean; logger: Logger }): Promise<Recovered> {
  const damage = lmdbFileDamage(lmdbPath(dataDir));
  if (damage) throw new UnrecoverableStorageError(`${damage}; restore this replica from its peers (empty its data dir)`);
  const engine = LmdbEngine.open(dataDir, { fsync: options.fsync });
  let meta = engine.readMeta();
  let holdsData = meta.applied !== undefined;
  if (meta.installing) {
    options.logger.warn({}, 'a snapshot install was cut short: wiping the state and starting empty');
    engine.clearState();
    engine.clearLog();
    engine.removeMeta('installing');
    engine.removeMeta('base');
    engine.removeMeta('applied');
    engine.removeMeta('slots');
    await engine.flush();
    meta = engine.readMeta();
    holdsData = false;
  }
  const base = meta.base ?? { seq: 0, epoch: 0 };
  const applied = meta.applied ?? base;
  const entries = await readLogTail(engine, base.seq, options.logger);
  if (applied.seq < base.seq) {
    throw new UnrecoverableStorageError(`the state (applied ${applied.seq}) is behind the log's base ${base.seq}: entries in between are lost`);
  }
  const log = new DurableLog(engine, base, entries);
  if (applied.seq > log.lastSeq) {
    // The state already holds what was cut off the log's end: the log restarts there.
    options.logger.warn({ applied: applied.seq, lastSeq: log.lastSeq }, 'the log ends before the state: restarting it at the applied point');
    log.resetTo(applied.seq, applied.epoch);
    await engine.flush();
  }
  const slots = storedSlotState(meta.slots);
  options.logger.info({ base: base.seq, lastSeq: log.lastSeq, applied: applied.seq, fenced: slots.fenced.size, versionOffset: slots.versionOffset }, 'recovered storage');
  return { engine, log, store: new DurableStore(engine, applied, slots), holdsData };
}

function storedSlotState(stored: StorageMeta['slots']): SlotState {
  try {
    return slotStateFromJson(stored, 'the stored slot state');
  } catch (error) {
    throw new UnrecoverableStorageError(`${(error as Error).message}; restore this replica from its peers (empty its data dir)`);
  }
}

async function readLogTail(engine: LmdbEngine, baseSeq: number, logger: Logger): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  let expected = baseSeq + 1;
  let bad: { seq: number; reason: string } | undefined;
  for (const { key: seq, value } of engine.log.getRange({ start: baseSeq + 1 })) {
    if (bad) {
      throw new UnrecoverableStorageError(
        `log record ${bad.seq} is corrupt (${bad.reason}) and records after it exist (${seq}): refusing to serve from a damaged log; restore this replica from its peers (empty its data dir)`,
      );
    }
    if (seq !== expected) {
      throw new UnrecoverableStorageError(`log record ${expected} is missing and record ${seq} follows: refusing to serve from a damaged log; restore this replica from its peers (empty its data dir)`);
    }
    try {
      entries.push(decodeLogEntry(seq, value));
      expected++;
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      bad = { seq, reason: error.message };
    }
  }
  if (bad) {
    logger.warn({ seq: bad.seq, reason: bad.reason }, 'cutting off a torn record at the end of the log');
    engine.removeLog(bad.seq);
    await engine.flush();
  }
  return entries;
}
