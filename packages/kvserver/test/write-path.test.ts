import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StorageMeta } from '../src/store/lmdb-engine';
import { SimCluster, bytes } from './support/sim-cluster';
import { closeStorage, noopEntry, openStorage, putEntry, tempDataDir, warmUp, type Opened } from './support/storage';

/**
 * What one replicated entry costs the storage: writes per entry and per
 * transaction (issue 14, item 3), and that the cheaper path still recovers.
 */

async function withStorage(run: (opened: Opened, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDataDir('write-path');
  const opened = await openStorage(dir);
  try {
    await warmUp(opened.engine);
    await run(opened, dir);
  } finally {
    await closeStorage(opened);
  }
}

/** Counts the engine's meta writes by name from now on. */
function countMetaWrites(opened: Opened): Map<keyof StorageMeta, number> {
  const counts = new Map<keyof StorageMeta, number>();
  const meta = opened.engine['meta'];
  const put = meta.put.bind(meta);
  meta.put = (name: keyof StorageMeta, value: StorageMeta[keyof StorageMeta]) => {
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return put(name, value);
  };
  return counts;
}

const puts = (from: number, count: number) => Array.from({ length: count }, (_, n) => putEntry(from + n, 1, `k${from + n}`, 'x'.repeat(100)));

describe('the write path per entry', () => {
  it('writes the applied point once per transaction, however many entries it applies', () =>
    withStorage(async (opened) => {
      const metaWrites = countMetaWrites(opened);
      const entries = puts(1, 50);
      opened.log.append(entries);
      for (const entry of entries) opened.store.apply(entry);
      await opened.log.flush();
      assert.equal(metaWrites.get('applied'), 1);
      assert.deepEqual(opened.engine.readMeta().applied, { seq: 50, epoch: 1 });
    }));

  it('settles every write of one transaction with one durable callback', () =>
    withStorage(async (opened) => {
      const settled: number[] = [];
      opened.engine.onDurable((writeId) => settled.push(writeId));
      const entries = puts(1, 20);
      opened.log.append(entries);
      for (const entry of entries) opened.store.apply(entry);
      await opened.log.flush();
      assert.equal(settled.length, 1, `${settled.length} callbacks for one transaction`);
      assert.equal(opened.log.durableSeq, 20);
      assert.equal(opened.store['overlay'].size, 0, 'every state write was seen durable');
    }));

  it('stores the applied point of a turn that writes nothing else (a noop), without a flush', () =>
    withStorage(async (opened) => {
      opened.log.append([noopEntry(1, 1)]);
      await opened.log.flush();
      opened.store.apply(noopEntry(1, 1));
      const deadline = Date.now() + 5000;
      while (opened.engine.readMeta().applied?.seq !== 1 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(opened.engine.readMeta().applied, { seq: 1, epoch: 1 });
    }));

  it('keeps base <= applied on disk when a turn applies entries and compacts past the last stored applied point', async () => {
    const dir = tempDataDir('write-path');
    const opened = await openStorage(dir);
    const entries = puts(1, 30);
    opened.log.append(entries);
    await opened.log.flush();
    for (const entry of entries) opened.store.apply(entry);
    // Still in the turn of the applies: the applied point is not yet written when the base is.
    opened.log.compactTo(25);
    await closeStorage(opened);
    const reopened = await openStorage(dir);
    try {
      assert.deepEqual(reopened.engine.readMeta().base, { seq: 25, epoch: 1 });
      assert.equal(reopened.store.appliedSeq, 30);
      assert.equal(reopened.log.lastSeq, 30);
      assert.equal(reopened.store.get('k30')?.version, 30);
    } finally {
      await closeStorage(reopened);
    }
  });

  it('has the leader flush its log once for the writes of one turn, not once per write', async () => {
    const sim = await SimCluster.started();
    const { log } = sim.node('a');
    let flushes = 0;
    const flush = log.flush.bind(log);
    log.flush = () => {
      flushes++;
      return flush();
    };
    const writes = Array.from({ length: 20 }, (_, n) => sim.replica('a').put(`k${n}`, bytes('v'), undefined, {}));
    await sim.settle();
    assert.equal((await Promise.all(writes)).length, 20);
    assert.equal(flushes, 1, `${flushes} flushes for 20 writes of one turn`);
  });
});
