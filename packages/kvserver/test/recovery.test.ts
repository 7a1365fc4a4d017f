import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEntry } from '../src/replication/entry';
import { UnrecoverableStorageError } from '../src/store/recovery';
import { closeStorage, flipByte, logRecord, openStorage, putEntry, tempDataDir, withEngine, type Opened } from './support/storage';


const puts = (from: number, count: number, epoch = 1): LogEntry[] =>
  Array.from({ length: count }, (_, index) => putEntry(from + index, epoch, `k${from + index}`, `value-${from + index}`));

/**
 * A data dir whose log holds seq 1..logged, of which 1..applied are applied
 * to the state (as on a follower that has not heard of the later commits yet).
 */
async function dataDirWith(logged: number, applied: number): Promise<string> {
  const dir = tempDataDir('recovery');
  const opened = await openStorage(dir);
  const entries = puts(1, logged);
  opened.log.append(entries);
  for (const entry of entries.slice(0, applied)) opened.store.apply(entry);
  await closeStorage(opened);
  return dir;
}

async function opens(dir: string, check: (opened: Opened) => void | Promise<void>): Promise<void> {
  const opened = await openStorage(dir);
  try {
    await check(opened);
  } finally {
    await closeStorage(opened);
  }
}

const warnings = (opened: Opened): string[] =>
  opened.logger.lines.filter((line) => line.level === 'warn').map((line) => `${line.message} ${JSON.stringify(line.object)}`);

describe('recoverStorage', () => {
  it('opens a new data dir empty, holding no data', () =>
    opens(tempDataDir('recovery'), (opened) => {
      assert.equal(opened.holdsData, false);
      assert.deepEqual([opened.log.baseSeq, opened.log.lastSeq, opened.store.appliedSeq, opened.store.size], [0, 0, 0, 0]);
    }));

  it('reopens a data dir with a state as holding data, knowing its last seq and epoch', async () => {
    const dir = await dataDirWith(10, 8);
    await opens(dir, (opened) => {
      assert.equal(opened.holdsData, true);
      assert.deepEqual([opened.log.lastSeq, opened.log.lastEpoch, opened.log.durableSeq, opened.store.appliedSeq], [10, 1, 10, 8]);
      assert.equal(opened.store.get('k8')?.value.toString(), 'value-8');
      assert.equal(warnings(opened).length, 0);
    });
  });

  it('logs what it recovered', async () => {
    const dir = await dataDirWith(5, 5);
    await opens(dir, (opened) => {
      const line = opened.logger.lines.find((candidate) => candidate.message === 'recovered storage');
      assert.deepEqual(line?.object, { base: 0, lastSeq: 5, applied: 5, fenced: 0, versionOffset: 0 });
    });
  });

  for (const [what, tear] of [
    ['cut short', (record: Buffer) => record.subarray(0, record.length - 3)],
    ['with a flipped byte', (record: Buffer) => flipByte(record, record.length - 1)],
    ['cut inside its header', (record: Buffer) => record.subarray(0, 10)],
    ['empty', () => Buffer.alloc(0)],
  ] as const) {
    it(`cuts off a torn last log record (${what}), logs it, and ends the log one earlier`, async () => {
      const dir = await dataDirWith(10, 7);
      await withEngine(dir, (engine) => void engine.putLog(10, tear(logRecord(engine, 10))));
      await opens(dir, (opened) => {
        assert.deepEqual([opened.log.lastSeq, opened.log.durableSeq, opened.store.appliedSeq], [9, 9, 7]);
        assert.equal(opened.holdsData, true);
        assert.equal(opened.engine.log.get(10), undefined, 'the torn record is removed from disk');
        const warned = warnings(opened);
        assert.equal(warned.length, 1, warned.join('\n'));
        assert.match(warned[0]!, /torn record/);
        assert.match(warned[0]!, /"seq":10/);
      });
      // And the cut stays cut: the next start is clean.
      await opens(dir, (opened) => {
        assert.equal(opened.log.lastSeq, 9);
        assert.equal(warnings(opened).length, 0);
      });
    });
  }

  it('cuts off a torn last log record that the state had already applied, and still starts', async () => {
    // A quiet replica has applied its whole log: its last record is in the state too.
    const dir = await dataDirWith(10, 10);
    await withEngine(dir, (engine) => void engine.putLog(10, logRecord(engine, 10).subarray(0, 20)));
    await opens(dir, (opened) => {
      assert.equal(opened.holdsData, true);
      assert.equal(opened.store.appliedSeq, 10);
      assert.equal(opened.store.get('k10')?.value.toString(), 'value-10', 'the state still has the entry');
      assert.ok(opened.log.lastSeq >= opened.store.appliedSeq || opened.log.baseSeq >= opened.store.appliedSeq, 'the log and the state agree');
    });
  });

  it('refuses a log with a corrupt record in the middle, naming it', async () => {
    const dir = await dataDirWith(10, 10);
    await withEngine(dir, (engine) => void engine.putLog(5, flipByte(logRecord(engine, 5), 30)));
    await assert.rejects(openStorage(dir), (error: unknown) => {
      assert.ok(error instanceof UnrecoverableStorageError, String(error));
      assert.match(error.message, /log record 5 is corrupt/);
      assert.match(error.message, /records after it exist \(6\)/);
      assert.match(error.message, /empty its data dir/, 'it says what to do');
      assert.doesNotMatch(error.message, /\n/, 'one line');
      return true;
    });
  });

  it('refuses a log with a corrupt record just before the last one', async () => {
    const dir = await dataDirWith(10, 3);
    await withEngine(dir, (engine) => void engine.putLog(9, logRecord(engine, 9).subarray(0, 12)));
    await assert.rejects(openStorage(dir), /log record 9 is corrupt/);
  });

  it('refuses a log with a record missing in the middle', async () => {
    const dir = await dataDirWith(10, 10);
    await withEngine(dir, (engine) => void engine.removeLog(4));
    await assert.rejects(openStorage(dir), (error: unknown) => {
      assert.ok(error instanceof UnrecoverableStorageError);
      assert.match(error.message, /log record 4 is missing and record 5 follows/);
      return true;
    });
  });

  it('refuses a log whose first record after the base is missing', async () => {
    const dir = await dataDirWith(10, 10);
    await withEngine(dir, (engine) => {
      engine.putMeta('base', { seq: 2, epoch: 1 });
      engine.removeLog(1);
      engine.removeLog(2);
      engine.removeLog(3);
    });
    await assert.rejects(openStorage(dir), /log record 3 is missing and record 4 follows/);
  });

  it('recovers a compacted log (records up to the base gone)', async () => {
    const dir = tempDataDir('recovery');
    const first = await openStorage(dir);
    const entries = puts(1, 20);
    first.log.append(entries);
    for (const entry of entries.slice(0, 15)) first.store.apply(entry);
    first.log.compactTo(12);
    await closeStorage(first);
    await opens(dir, (opened) => {
      assert.deepEqual([opened.log.baseSeq, opened.log.lastSeq, opened.store.appliedSeq, opened.holdsData], [12, 20, 15, true]);
      assert.equal(opened.log.entryAt(13)?.op.type, 'put');
    });
  });

  it('refuses a state that is behind the log base (entries lost in between)', async () => {
    const dir = await dataDirWith(10, 3);
    await withEngine(dir, (engine) => void engine.putMeta('base', { seq: 5, epoch: 1 }));
    await assert.rejects(openStorage(dir), (error: unknown) => error instanceof UnrecoverableStorageError && /behind the log's base 5/.test(error.message));
  });

  it('wipes an interrupted snapshot install and starts empty, holding no data', async () => {
    const dir = tempDataDir('recovery');
    const opened = await openStorage(dir);
    const entries = puts(1, 5);
    opened.log.append(entries);
    for (const entry of entries) opened.store.apply(entry);
    await opened.log.flush();
    // Cut short after the first chunk of a snapshot.
    opened.log.resetTo(0, 0);
    opened.store.beginRestore();
    opened.store.restoreRecords([{ key: 'half', value: Buffer.from('installed'), version: 90, expiresAt: null }]);
    await closeStorage(opened);

    await opens(dir, (reopened) => {
      assert.equal(reopened.holdsData, false);
      assert.deepEqual([reopened.log.baseSeq, reopened.log.lastSeq, reopened.store.appliedSeq, reopened.store.size], [0, 0, 0, 0]);
      assert.equal(reopened.store.get('half'), undefined);
      assert.equal(reopened.store.get('k1'), undefined);
      const meta = reopened.engine.readMeta();
      assert.deepEqual(meta, { base: undefined, applied: undefined, installing: undefined, slots: undefined });
      assert.ok(warnings(reopened).some((line) => /snapshot install was cut short/.test(line)));
    });
    // Wiped for good: the next start holds no data either, without another warning.
    await opens(dir, (reopened) => {
      assert.equal(reopened.holdsData, false);
      assert.equal(warnings(reopened).length, 0);
    });
  });

  it('wipes an install cut short even when log records were written after it began', async () => {
    const dir = tempDataDir('recovery');
    await withEngine(dir, (engine) => {
      engine.putMeta('installing', true);
      engine.putMeta('applied', { seq: 0, epoch: 0 });
      engine.putLog(1, Buffer.from('junk'));
    });
    await opens(dir, (opened) => {
      assert.equal(opened.holdsData, false);
      assert.deepEqual([opened.log.lastSeq, opened.store.appliedSeq], [0, 0]);
      assert.equal(opened.engine.log.get(1), undefined);
    });
  });
});
