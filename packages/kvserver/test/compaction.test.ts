import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactionPoint, logIsOverBounds } from '../src/replication/compaction';
import { entryBytes, type LogEntry } from '../src/replication/entry';
import { MemoryLog } from '../src/replication/log';
import { DEFAULT_REPLICATION_OPTIONS, type ReplicationOptions } from '../src/replication/types';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { closeStorage, openStorage, putEntry, tempDataDir } from './support/storage';

const options = (maxLogEntries: number, maxLogBytes = Infinity): ReplicationOptions => ({ ...DEFAULT_REPLICATION_OPTIONS, maxLogEntries, maxLogBytes });

/** Entries of exactly `bytes` by entryBytes (key k<seq> padded): value length = bytes - key length - 64. */
function sized(seq: number, bytes: number): LogEntry {
  const key = `k${seq}`;
  const entry = putEntry(seq, 1, key, Buffer.alloc(bytes - key.length - 64));
  assert.equal(entryBytes(entry), bytes);
  return entry;
}

/** A log holding seq base+1..last, each entry `bytes` big, compacted to `base`. */
function logOf(last: number, options: { base?: number; bytes?: number } = {}): MemoryLog {
  const log = new MemoryLog();
  log.append(Array.from({ length: last }, (_, index) => sized(index + 1, options.bytes ?? 100)));
  log.compactTo(options.base ?? 0);
  return log;
}

describe('compaction decisions', () => {
  describe('by entries', () => {
    it('is not over bounds up to maxLogEntries applied entries after the base', () => {
      assert.equal(logIsOverBounds(logOf(20), 20, options(20)), false);
      assert.equal(logIsOverBounds(logOf(21), 21, options(20)), true);
    });

    it('counts only applied entries: an unapplied tail never triggers compaction', () => {
      const log = logOf(100);
      assert.equal(logIsOverBounds(log, 20, options(20)), false);
      assert.equal(logIsOverBounds(log, 21, options(20)), true);
    });

    it('counts from the base, not from seq 1', () => {
      assert.equal(logIsOverBounds(logOf(60, { base: 40 }), 60, options(20)), false);
      assert.equal(logIsOverBounds(logOf(61, { base: 40 }), 61, options(20)), true);
    });

    it('compacts to keep half the entry bound of recent applied entries', () => {
      assert.equal(compactionPoint(logOf(25), 25, options(20)), 15);
      assert.equal(compactionPoint(logOf(101), 101, options(100)), 51);
      assert.equal(compactionPoint(logOf(25), 25, options(21)), 15, 'half rounds down: 10 kept');
    });

    it('never compacts beyond the applied point', () => {
      const log = logOf(100);
      for (const applied of [0, 1, 5, 30, 99, 100]) {
        const point = compactionPoint(log, applied, options(10));
        assert.ok(point <= applied, `applied ${applied}: point ${point}`);
        assert.ok(point >= log.baseSeq);
      }
      assert.equal(compactionPoint(log, 30, options(10)), 25);
    });

    it('never goes below the base', () => {
      const log = logOf(50, { base: 45 });
      assert.equal(compactionPoint(log, 50, options(20)), 45);
    });
  });

  describe('by bytes', () => {
    it('is over bounds when the log holds more bytes than maxLogBytes and something is applied', () => {
      const log = logOf(20, { bytes: 100 }); // 2000 bytes
      assert.equal(log.bytes, 2000);
      assert.equal(logIsOverBounds(log, 1, options(1000, 2000)), false, 'at the bound');
      assert.equal(logIsOverBounds(log, 1, options(1000, 1999)), true);
      assert.equal(logIsOverBounds(log, 0, options(1000, 1999)), false, 'nothing applied: nothing to fold away');
    });

    it('keeps at most half the byte bound after the point', () => {
      const log = logOf(20, { bytes: 100 });
      const point = compactionPoint(log, 20, options(1000, 1000));
      // 500 bytes = 5 entries of 100 may stay: 16..20.
      assert.equal(point, 15);
      const kept = log.slice(point + 1, Infinity, Infinity).reduce((sum, entry) => sum + entryBytes(entry), 0);
      assert.ok(kept <= 500, `${kept} bytes kept`);
    });

    it('takes the tighter of the two bounds', () => {
      const log = logOf(40, { bytes: 100 });
      assert.equal(compactionPoint(log, 40, options(20, 1_000_000)), 30, 'entries bound tighter');
      assert.equal(compactionPoint(log, 40, options(20, 600)), 37, 'bytes bound tighter: 3 entries of 100 fit in 300');
    });

    it('keeps nothing when a single applied entry is over half the byte bound, but still not beyond applied', () => {
      const log = logOf(10, { bytes: 1000 });
      assert.equal(compactionPoint(log, 10, options(1000, 1000)), 10);
      assert.equal(compactionPoint(log, 6, options(1000, 1000)), 6);
    });
  });

  it('decides the same for a durable log as for a memory log', async () => {
    const opened = await openStorage(tempDataDir('compaction'));
    try {
      const memory = logOf(40, { bytes: 100 });
      opened.log.append(memory.slice(1, Infinity, Infinity));
      await opened.log.flush();
      for (const [applied, bound] of [[40, options(20, 600)], [40, options(20)], [25, options(10)], [10, options(30)]] as const) {
        assert.equal(logIsOverBounds(opened.log, applied, bound), logIsOverBounds(memory, applied, bound));
        assert.equal(compactionPoint(opened.log, applied, bound), compactionPoint(memory, applied, bound));
      }
      opened.log.compactTo(compactionPoint(opened.log, 40, options(20)));
      await opened.log.flush();
      assert.equal(opened.log.baseSeq, 30);
      assert.equal(logIsOverBounds(opened.log, 40, options(20)), false, 'compaction brings it back within bounds');
    } finally {
      await closeStorage(opened);
    }
  });

  it('keeps the disk bounded: the same 10,000 keys written 100 times, compacted by the default bounds', async (t) => {
    const KEYS = 10_000;
    const VALUE_BYTES = 100;
    const dir = tempDataDir('compaction-disk');
    const opened = await openStorage(dir, { fsync: false });
    const bounds = DEFAULT_REPLICATION_OPTIONS;
    const sizes: number[] = [];
    try {
      let seq = 0;
      for (let round = 0; round < 100; round++) {
        for (let batch = 0; batch < KEYS; batch += 500) {
          const entries = Array.from({ length: 500 }, (_, index) => putEntry(++seq, 1, `key-${batch + index}`, `${round}:${batch + index}:`.padEnd(VALUE_BYTES, 'x')));
          opened.log.append(entries);
          for (const entry of entries) opened.store.apply(entry);
          await opened.log.flush();
          // As a follower does after applying (Replica.handleAppend).
          if (logIsOverBounds(opened.log, opened.store.appliedSeq, bounds)) opened.log.compactTo(compactionPoint(opened.log, opened.store.appliedSeq, bounds));
        }
        await opened.log.flush();
        sizes.push(statSync(join(dir, 'kv.lmdb')).size);
      }
      assert.equal(opened.store.size, KEYS);
      assert.ok(opened.store.appliedSeq - opened.log.baseSeq <= bounds.maxLogEntries);
    } finally {
      await closeStorage(opened);
    }
    const live = KEYS * VALUE_BYTES;
    const ratio = sizes.at(-1)! / live;
    t.diagnostic(`kv.lmdb after rounds 1, 10, 30, 100: ${[0, 9, 29, 99].map((round) => (sizes[round]! / 1e6).toFixed(2)).join(', ')} MB for ${live / 1e6} MB live: ${ratio.toFixed(2)}×`);
    assert.ok(ratio <= 10, `${ratio.toFixed(2)}× the live data`);
    assert.ok(sizes[99]! <= sizes[29]! * 1.1, `the file keeps growing after round 30: ${sizes[29]} -> ${sizes[99]}`);
  });
});
