import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from '../src/replication/entry';
import { DEFAULT_REPLICATION_OPTIONS, silentLogger } from '../src/replication/types';
import { StorageWriter } from '../src/internal/storage-writer';
import { tempDataDir } from './support/storage';

const put = (key: string, value = `value of ${key}`): Operation => ({ type: 'put', key, value: Buffer.from(value), expiresAt: null });

async function withWriter(dir: string, run: (writer: StorageWriter) => Promise<void>, fsync = true): Promise<void> {
  const writer = await StorageWriter.open(dir, { fsync, logger: silentLogger, epoch: 3 });
  try {
    await run(writer);
  } finally {
    await writer.close();
  }
}

describe('StorageWriter (the storage bench write path)', () => {
  it('appends the operations as the next entries of its epoch, durable and applied in order', () =>
    withWriter(tempDataDir('writer'), async (writer) => {
      await writer.appendAndApply([put('a'), put('b')]);
      await writer.appendAndApply([{ type: 'delete', key: 'a' }]);
      assert.equal(writer.log.lastSeq, 3);
      assert.equal(writer.log.durableSeq, 3);
      assert.equal(writer.log.entryAt(3)?.epoch, 3);
      assert.equal(writer.store.appliedSeq, 3);
      assert.equal(writer.store.get('a'), undefined);
      assert.equal(writer.store.get('b')?.version, 2);
    }));

  it('shares one commit between the appends of one event turn', () =>
    withWriter(tempDataDir('writer'), async (writer) => {
      await writer.appendAndApply([put('warm-up')]); // a fresh environment's first write commits on its own
      let commits = 0;
      writer.onCommit(() => commits++);
      await Promise.all([writer.appendAndApply([put('x')]), writer.appendAndApply([put('y')]), writer.appendAndApply([put('z')])]);
      assert.equal(commits, 1);
      assert.equal(writer.store.appliedSeq, 4);
    }));

  it('recovers what it wrote and goes on after the last entry', async () => {
    const dir = tempDataDir('writer');
    await withWriter(dir, (writer) => writer.appendAndApply([put('a'), put('b')]));
    await withWriter(dir, async (writer) => {
      assert.equal(writer.store.get('b')?.value.toString(), 'value of b');
      await writer.appendAndApply([put('c')]);
      assert.equal(writer.store.get('c')?.version, 3);
    });
  });

  it('compacts the log by the replica rule once it outgrows the default bounds', () =>
    withWriter(
      tempDataDir('writer'),
      async (writer) => {
        const count = DEFAULT_REPLICATION_OPTIONS.maxLogEntries + 1;
        await writer.appendAndApply(Array.from({ length: count }, (_, index) => put(`k${index}`, 'v')));
        assert.ok(writer.log.baseSeq > 0, 'the log was compacted');
        assert.equal(writer.log.lastSeq, count);
        assert.equal(writer.store.get(`k${count - 1}`)?.version, count);
      },
      false,
    ));

  it('does nothing for no operations', () =>
    withWriter(tempDataDir('writer'), async (writer) => {
      await writer.appendAndApply([]);
      assert.equal(writer.log.lastSeq, 0);
      assert.equal(writer.store.appliedSeq, 0);
    }));
});
