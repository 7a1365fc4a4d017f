import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEntry } from '../src/replication/entry';
import type { SnapshotRecord } from '../src/replication/kv-store';
import { decodeStateValue } from '../src/store/record-codec';
import { NO_SLOTS } from '../src/store/slot-state';
import { closeStorage, deleteEntry, noopEntry, openStorage, putEntry, rootOf, tempDataDir, type Opened } from './support/storage';

const NOW = 1_000_000;

async function withStorage(run: (opened: Opened, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDataDir('durable-store');
  const opened = await openStorage(dir);
  try {
    await run(opened, dir);
  } finally {
    await closeStorage(opened);
  }
}

/** Appends `entries` to the log and applies them, as a follower does once they are committed. */
function appendAndApply(opened: Opened, entries: LogEntry[]): void {
  opened.log.append(entries);
  for (const entry of entries) opened.store.apply(entry);
}

/** What is committed on disk for `key` (no overlay). */
function onDisk(opened: Opened, key: string): string | undefined {
  const record = opened.engine.state.get(key);
  return record === undefined ? undefined : decodeStateValue(key, record).value.toString();
}

const text = (stored: { value: Buffer } | undefined): string | undefined => stored?.value.toString();

function drain(records: Iterable<SnapshotRecord>): Map<string, string> {
  return new Map([...records].map((record) => [record.key, `${record.value.toString()}@${record.version}`]));
}

describe('DurableStore', () => {
  it('shows an applied put before it is committed (the overlay), and on disk after', () =>
    withStorage(async (opened) => {
      const { store } = opened;
      appendAndApply(opened, [putEntry(1, 1, 'a', 'one', null)]);
      assert.deepEqual(store.get('a'), { value: Buffer.from('one'), version: 1, expiresAt: null });
      assert.equal(onDisk(opened, 'a'), undefined, 'not committed in the same turn');
      assert.equal(store.appliedSeq, 1);
      await opened.log.flush();
      assert.equal(onDisk(opened, 'a'), 'one');
      assert.equal(text(store.get('a')), 'one');
      assert.equal(opened.store['overlay'].size, 0, 'the overlay is emptied once the write is committed');
      assert.deepEqual(opened.engine.readMeta().applied, { seq: 1, epoch: 1 });
    }));

  it('hides an applied delete before it is committed', () =>
    withStorage(async (opened) => {
      const { store } = opened;
      appendAndApply(opened, [putEntry(1, 1, 'a', 'one')]);
      await opened.log.flush();
      appendAndApply(opened, [deleteEntry(2, 1, 'a')]);
      assert.equal(store.get('a'), undefined);
      assert.equal(onDisk(opened, 'a'), 'one', 'still on disk until the delete commits');
      await opened.log.flush();
      assert.equal(onDisk(opened, 'a'), undefined);
      assert.equal(store.get('a'), undefined);
    }));

  it('keeps the newest of several in-flight writes to one key visible', () =>
    withStorage(async (opened) => {
      const { store } = opened;
      appendAndApply(opened, [putEntry(1, 1, 'a', 'one')]);
      const firstCommitted = opened.log.flush();
      appendAndApply(opened, [putEntry(2, 1, 'a', 'two')]);
      await firstCommitted;
      assert.equal(text(store.get('a')), 'two', 'the commit of the older write does not unmask it');
      await opened.log.flush();
      assert.equal(onDisk(opened, 'a'), 'two');
      assert.equal(store.get('a')?.version, 2);
    }));

  it('keeps a value past its expiry until an expire entry of that version is applied', () =>
    withStorage(async (opened) => {
      appendAndApply(opened, [putEntry(1, 1, 'ttl', 'x', NOW + 10)]);
      await opened.log.flush();
      assert.equal(text(opened.store.get('ttl')), 'x');
      appendAndApply(opened, [{ seq: 2, epoch: 1, op: { type: 'expire', key: 'ttl', version: 7 } }]);
      assert.equal(text(opened.store.get('ttl')), 'x', 'an expiry of another version changes nothing');
      appendAndApply(opened, [{ seq: 3, epoch: 1, op: { type: 'expire', key: 'ttl', version: 1 } }]);
      assert.equal(opened.store.get('ttl'), undefined);
      await opened.log.flush();
      assert.equal(onDisk(opened, 'ttl'), undefined);
    }));

  it('counts stored keys in size', () =>
    withStorage(async (opened) => {
      appendAndApply(opened, [putEntry(1, 1, 'a', '1'), putEntry(2, 1, 'b', '2'), putEntry(3, 1, 'c', '3'), deleteEntry(4, 1, 'b')]);
      await opened.log.flush();
      assert.equal(opened.store.size, 2);
    }));

  it('refuses to apply an entry twice', () =>
    withStorage(async (opened) => {
      appendAndApply(opened, [putEntry(1, 1, 'a', '1')]);
      assert.throws(() => opened.store.apply(putEntry(1, 1, 'a', '1')), /applied twice/);
    }));

  it('gives a snapshot of what is committed, with the applied point committed with it; later writes do not show', () =>
    withStorage(async (opened) => {
      const { store } = opened;
      appendAndApply(opened, [putEntry(1, 1, 'a', 'A'), putEntry(2, 1, 'b', 'B'), noopEntry(3, 2)]);
      await opened.log.flush();
      // In flight when the snapshot is opened: neither its value nor its seq may be in the snapshot.
      appendAndApply(opened, [putEntry(4, 2, 'c', 'C'), deleteEntry(5, 2, 'a')]);
      const snapshot = store.openSnapshot();
      try {
        assert.deepEqual([snapshot.seq, snapshot.epoch], [3, 2], 'the applied point committed with the state');
        await opened.log.flush();
        appendAndApply(opened, [putEntry(6, 2, 'b', 'B2'), putEntry(7, 2, 'd', 'D')]);
        await opened.log.flush();
        assert.deepEqual(drain(snapshot.records), new Map([['a', 'A@1'], ['b', 'B@2']]));
      } finally {
        snapshot.close();
      }
      const later = store.openSnapshot();
      try {
        assert.deepEqual([later.seq, later.epoch], [7, 2]);
        assert.deepEqual(drain(later.records), new Map([['b', 'B2@6'], ['c', 'C@4'], ['d', 'D@7']]));
      } finally {
        later.close();
      }
    }));

  it('puts values past their expiry in a snapshot, with their expiry: only an expire entry removes them', () =>
    withStorage(async (opened) => {
      appendAndApply(opened, [putEntry(1, 1, 'gone', 'x', NOW - 1), putEntry(2, 1, 'live', 'y', NOW + 1000), putEntry(3, 1, 'forever', 'z')]);
      await opened.log.flush();
      const snapshot = opened.store.openSnapshot();
      try {
        const records = [...snapshot.records];
        assert.deepEqual(records.map((record) => record.key).sort(), ['forever', 'gone', 'live']);
        assert.equal(records.find((record) => record.key === 'live')?.expiresAt, NOW + 1000);
        assert.equal(records.find((record) => record.key === 'gone')?.expiresAt, NOW - 1);
      } finally {
        snapshot.close();
      }
    }));

  it('restores a snapshot: installing while under way, then the state and applied point, across a reopen', async () => {
    const dir = tempDataDir('durable-store');
    const opened = await openStorage(dir);
    appendAndApply(opened, [putEntry(1, 1, 'old', 'x')]);
    await opened.log.flush();
    opened.log.resetTo(0, 0);
    opened.store.beginRestore();
    opened.store.restoreRecords([
      { key: 'a', value: Buffer.from('A'), version: 40, expiresAt: null },
      { key: 'b', value: Buffer.from('B'), version: 41, expiresAt: NOW + 5000 },
    ]);
    await opened.log.flush();
    assert.equal(opened.engine.readMeta().installing, true);
    assert.equal(opened.store.get('old'), undefined, 'the old state is gone');
    assert.deepEqual([opened.store.appliedSeq, opened.log.lastSeq], [0, 0], 'nothing to vouch for until the install ends');
    opened.store.restoreRecords([{ key: 'c', value: Buffer.from('C'), version: 45, expiresAt: null }]);
    opened.store.finishRestore(50, 3, NO_SLOTS);
    opened.log.resetTo(50, 3);
    await opened.log.flush();
    const meta = opened.engine.readMeta();
    assert.equal(meta.installing, undefined);
    assert.deepEqual(meta.applied, { seq: 50, epoch: 3 });
    assert.deepEqual([opened.store.appliedSeq, opened.store.appliedEpoch], [50, 3]);
    await closeStorage(opened);

    const reopened = await openStorage(dir);
    try {
      assert.equal(reopened.holdsData, true);
      assert.deepEqual([reopened.store.appliedSeq, reopened.store.appliedEpoch, reopened.log.baseSeq, reopened.log.lastSeq], [50, 3, 50, 50]);
      assert.equal(reopened.store.get('old'), undefined);
      assert.deepEqual(reopened.store.get('b'), { value: Buffer.from('B'), version: 41, expiresAt: NOW + 5000 });
      assert.equal(text(reopened.store.get('c')), 'C');
      // The log continues after the snapshot.
      appendAndApply(reopened, [putEntry(51, 3, 'd', 'D')]);
      await reopened.log.flush();
      assert.equal(reopened.log.durableSeq, 51);
    } finally {
      await closeStorage(reopened);
    }
  });

  it('lists values due for expiry, those on disk before it opened included', async () => {
    const dir = tempDataDir('durable-store');
    const first = await openStorage(dir);
    appendAndApply(first, [putEntry(1, 1, 'e1', 'x', NOW - 1), putEntry(2, 1, 'e2', 'x', NOW), putEntry(3, 1, 'live', 'y', NOW + 1), putEntry(4, 1, 'forever', 'z')]);
    await closeStorage(first);
    const second = await openStorage(dir);
    try {
      assert.deepEqual(second.store.dueForExpiry(NOW, 10), [{ key: 'e1', version: 1, expiresAt: NOW - 1 }, { key: 'e2', version: 2, expiresAt: NOW }]);
      // A newer, unexpiring value is applied and not yet committed: the expired one is no longer current.
      appendAndApply(second, [putEntry(5, 1, 'e1', 'new')]);
      assert.deepEqual(second.store.dueForExpiry(NOW, 10).map(({ key }) => key), ['e2']);
      appendAndApply(second, [putEntry(6, 1, 'soon', 's', NOW + 5)]);
      assert.deepEqual(second.store.dueForExpiry(NOW + 5, 10).map(({ key }) => key), ['e2', 'live', 'soon']);
    } finally {
      await closeStorage(second);
    }
  });

  it('keeps TTLs as absolute expiries across a reopen', async () => {
    const dir = tempDataDir('durable-store');
    const first = await openStorage(dir);
    appendAndApply(first, [putEntry(1, 1, 'ttl', 'x', NOW + 30_000)]);
    await closeStorage(first);
    const second = await openStorage(dir);
    try {
      assert.deepEqual(second.store.get('ttl'), { value: Buffer.from('x'), version: 1, expiresAt: NOW + 30_000 });
      assert.deepEqual(second.store.dueForExpiry(NOW + 30_000, 10).map(({ key }) => key), ['ttl']);
    } finally {
      await closeStorage(second);
    }
  });

  it('reopens with the same state and applied point', async () => {
    const dir = tempDataDir('durable-store');
    const first = await openStorage(dir);
    appendAndApply(first, [putEntry(1, 1, 'a', 'A'), putEntry(2, 1, 'b', Buffer.from([0, 255, 1])), deleteEntry(3, 2, 'a'), noopEntry(4, 2)]);
    first.log.append([putEntry(5, 2, 'c', 'not applied')]);
    await closeStorage(first);
    const second = await openStorage(dir);
    try {
      assert.equal(second.holdsData, true);
      assert.deepEqual([second.store.appliedSeq, second.store.appliedEpoch, second.log.lastSeq], [4, 2, 5]);
      assert.equal(second.store.get('a'), undefined);
      assert.deepEqual(second.store.get('b')?.value, Buffer.from([0, 255, 1]));
      assert.equal(second.store.get('c'), undefined, 'appended but not applied');
    } finally {
      await closeStorage(second);
    }
  });
});

describe('DurableStore when the disk refuses a write', () => {
  /** Makes the engine's state and log databases reject every write from now on, as a full disk does. */
  function breakDisk(opened: Opened, error = new Error('ENOSPC: no space left on device (simulated)')): () => void {
    const { log, state } = opened.engine;
    const saved = { logPut: log.put, statePut: state.put };
    log.put = () => Promise.reject(error);
    state.put = () => Promise.reject(error);
    return () => {
      log.put = saved.logPut;
      state.put = saved.statePut;
    };
  }

  it('sets store.failure, rejects flush and keeps durableSeq where the disk stopped', () =>
    withStorage(async (opened) => {
      appendAndApply(opened, [putEntry(1, 1, 'a', 'A')]);
      await opened.log.flush();
      const repair = breakDisk(opened);
      try {
        assert.equal(opened.store.failure, undefined);
        opened.log.append([putEntry(2, 1, 'b', 'B')]);
        await assert.rejects(opened.log.flush(), /ENOSPC/);
        assert.match(String((opened.store.failure as Error | undefined)?.message), /ENOSPC/);
        assert.equal(opened.log.durableSeq, 1);
        await assert.rejects(opened.log.flush(), /ENOSPC/, 'every later flush rejects too');
      } finally {
        repair();
      }
    }));

  it('never counts a refused entry durable, even when a later write succeeds', () =>
    withStorage(async (opened) => {
      appendAndApply(opened, [putEntry(1, 1, 'a', 'A')]);
      await opened.log.flush();
      const repair = breakDisk(opened);
      opened.log.append([putEntry(2, 1, 'b', 'B')]);
      await assert.rejects(opened.log.flush());
      repair();
      // The disk has room again: entry 3 is written, entry 2 never was.
      opened.log.append([putEntry(3, 1, 'c', 'C')]);
      await assert.rejects(opened.log.flush(), 'the engine stays failed');
      await rootOf(opened.engine).flushed;
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(opened.engine.log.get(3), 'entry 3 is on disk');
      assert.equal(opened.engine.log.get(2), undefined, 'entry 2 is not on disk');
      assert.ok(opened.log.durableSeq < 2, `durableSeq is ${opened.log.durableSeq}, but entry 2 never reached the disk`);
    }));
});
