import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEntry } from '../src/replication/entry';
import { decodeLogEntry } from '../src/store/record-codec';
import { closeStorage, deleteEntry, noopEntry, openStorage, putEntry, tempDataDir, type Opened } from './support/storage';

/** seq 1..count, at `epoch`, each a put of k<seq>. */
const puts = (from: number, count: number, epoch = 1): LogEntry[] =>
  Array.from({ length: count }, (_, index) => putEntry(from + index, epoch, `k${from + index}`, `v${from + index}`));

/** The seqs of the log records on disk, in order. */
const seqsOnDisk = (opened: Opened): number[] => [...opened.engine.log.getKeys()] as number[];

async function withStorage(run: (opened: Opened, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDataDir('durable-log');
  const opened = await openStorage(dir);
  try {
    await run(opened, dir);
  } finally {
    await closeStorage(opened);
  }
}

describe('DurableLog', () => {
  it('starts empty in a new data dir', () =>
    withStorage(async ({ log }) => {
      assert.deepEqual([log.baseSeq, log.baseEpoch, log.lastSeq, log.lastEpoch, log.durableSeq], [0, 0, 0, 0, 0]);
    }));

  it('serves appended entries at once, and counts them durable only once flushed to disk', () =>
    withStorage(async (opened) => {
      const { log, engine } = opened;
      log.append(puts(1, 3));
      assert.equal(log.lastSeq, 3);
      assert.equal(log.durableSeq, 0, 'nothing is durable in the same turn');
      assert.deepEqual(log.entryAt(2), puts(2, 1)[0]);
      assert.deepEqual(seqsOnDisk(opened), [], 'not committed yet');
      await log.flush();
      assert.equal(log.durableSeq, 3);
      assert.deepEqual(seqsOnDisk(opened), [1, 2, 3]);
      assert.deepEqual(decodeLogEntry(2, engine.log.get(2)!), puts(2, 1)[0], 'the stored record decodes to the entry');
      log.append([noopEntry(4, 2), deleteEntry(5, 2, 'k1')]);
      assert.equal(log.durableSeq, 3);
      await log.flush();
      assert.deepEqual([log.durableSeq, log.lastEpoch], [5, 2]);
    }));

  it('truncateFrom lowers durableSeq at once and removes the records from disk', () =>
    withStorage(async (opened) => {
      const { log } = opened;
      log.append(puts(1, 6));
      await log.flush();
      log.truncateFrom(4);
      assert.deepEqual([log.lastSeq, log.durableSeq], [3, 3], 'a truncated entry is never counted durable, even before the removal commits');
      await log.flush();
      assert.deepEqual(seqsOnDisk(opened), [1, 2, 3]);
      assert.equal(log.durableSeq, 3);
      log.append(puts(4, 1, 2));
      await log.flush();
      assert.deepEqual([log.lastSeq, log.durableSeq, log.epochAt(4)], [4, 4, 2]);
    }));

  it('does not count an entry durable once a later truncation removed it, while both are in flight', () =>
    withStorage(async (opened) => {
      const { log } = opened;
      log.append(puts(1, 2));
      await log.flush();
      log.append(puts(3, 3));
      log.truncateFrom(4);
      assert.equal(log.durableSeq, 2);
      await log.flush();
      assert.deepEqual([log.lastSeq, log.durableSeq], [3, 3]);
      assert.deepEqual(seqsOnDisk(opened), [1, 2, 3]);
    }));

  it('compactTo removes records up to the point from disk and stores the base', () =>
    withStorage(async (opened) => {
      const { log, engine } = opened;
      log.append([...puts(1, 4, 1), ...puts(5, 4, 2)]);
      await log.flush();
      log.compactTo(5);
      assert.deepEqual([log.baseSeq, log.baseEpoch, log.lastSeq], [5, 2, 8]);
      assert.equal(log.entryAt(5), undefined);
      assert.equal(log.epochAt(5), 2);
      await log.flush();
      assert.deepEqual(seqsOnDisk(opened), [6, 7, 8]);
      assert.deepEqual(engine.readMeta().base, { seq: 5, epoch: 2 });
      assert.equal(log.durableSeq, 8, 'compaction does not change what is durable');
    }));

  it('resetTo empties the log and restarts it after a snapshot point', () =>
    withStorage(async (opened) => {
      const { log, engine } = opened;
      log.append(puts(1, 5));
      await log.flush();
      log.resetTo(100, 7);
      assert.deepEqual([log.baseSeq, log.baseEpoch, log.lastSeq, log.lastEpoch], [100, 7, 100, 7]);
      await log.flush();
      assert.deepEqual(seqsOnDisk(opened), []);
      assert.deepEqual(engine.readMeta().base, { seq: 100, epoch: 7 });
      assert.equal(log.durableSeq, 100);
      log.append(puts(101, 2, 7));
      await log.flush();
      assert.deepEqual(seqsOnDisk(opened), [101, 102]);
    }));

  it('after reopening (recovery), holds the same window, base and durable end', async () => {
    const dir = tempDataDir('durable-log');
    const first = await openStorage(dir);
    first.log.append([...puts(1, 10, 1), noopEntry(11, 2), deleteEntry(12, 2, 'k3'), ...puts(13, 3, 2)]);
    await first.log.flush();
    first.log.compactTo(4);
    first.log.truncateFrom(15);
    await first.log.flush();
    const expected = first.log.slice(0, 1000, Infinity);
    const shape = [first.log.baseSeq, first.log.baseEpoch, first.log.lastSeq, first.log.lastEpoch];
    await closeStorage(first);

    const second = await openStorage(dir);
    try {
      assert.deepEqual([second.log.baseSeq, second.log.baseEpoch, second.log.lastSeq, second.log.lastEpoch], shape);
      assert.deepEqual(shape, [4, 1, 14, 2]);
      assert.equal(second.log.durableSeq, 14);
      assert.deepEqual(second.log.slice(0, 1000, Infinity), expected);
      assert.ok(second.log.bytes > 0);
    } finally {
      await closeStorage(second);
    }
  });

  it('keeps flushes ordered: a flush resolves only once every earlier append is durable', () =>
    withStorage(async ({ log }) => {
      const seen: number[] = [];
      const flushes: Array<Promise<void>> = [];
      for (let seq = 1; seq <= 5; seq++) {
        log.append(puts(seq, 1));
        flushes.push(log.flush().then(() => void seen.push(log.durableSeq)));
        await Promise.resolve();
      }
      await Promise.all(flushes);
      for (const [index, durable] of seen.entries()) assert.ok(durable >= index + 1, `flush ${index + 1} saw durableSeq ${durable}`);
    }));
});
