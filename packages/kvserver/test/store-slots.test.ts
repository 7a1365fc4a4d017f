import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEntry, Operation } from '../src/replication/entry';
import type { KvStore, SlotState, SnapshotRecord } from '../src/replication/kv-store';
import { MemoryStore } from '../src/store/memory-store';
import { UnrecoverableStorageError } from '../src/store/recovery';
import type { SlotStateJson } from '../src/store/slot-state';
import { keysOfOneSlot } from './support/slot-keys';
import { closeStorage, countCommits, openStorage, tempDataDir, warmUp, withEngine, type Opened } from './support/storage';

const NOW = 1_000_000;
const taken = new Set<number>();
const A = keysOfOneSlot('a-', 3, taken);
const B = keysOfOneSlot('b-', 3, taken);
const C = keysOfOneSlot('c-', 2, taken);
const [a1, a2, a3] = A.keys as [string, string, string];
const [b1, b2, b3] = B.keys as [string, string, string];
const [c1, c2] = C.keys as [string, string];

const put = (key: string, value: string, expiresAt: number | null = null): Operation => ({ type: 'put', key, value: Buffer.from(value), expiresAt });
const record = (key: string, value: string, version: number, expiresAt: number | null = null): SnapshotRecord => ({ key, value: Buffer.from(value), version, expiresAt });

/** A store under test, fed as a follower feeds it (the durable one also appends to its log). */
interface Subject {
  store: KvStore;
  apply(...ops: Operation[]): void;
}

function memorySubject(store = new MemoryStore()): Subject {
  return { store, apply: (...ops) => ops.forEach((op) => store.apply({ seq: store.appliedSeq + 1, epoch: 1, op })) };
}

function durableSubject(opened: Opened): Subject {
  return {
    store: opened.store,
    apply: (...ops) => {
      for (const op of ops) {
        const entry: LogEntry = { seq: opened.store.appliedSeq + 1, epoch: 1, op };
        opened.log.append([entry]);
        opened.store.apply(entry);
      }
    },
  };
}

async function withDurable(run: (opened: Opened, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDataDir('store-slots');
  const opened = await openStorage(dir);
  try {
    await run(opened, dir);
  } finally {
    await closeStorage(opened);
  }
}

/** The state as `key=value@version`, sorted, read through recordsInSlots (so through the slot index). */
function stateOf(store: KvStore): string[] {
  return store
    .recordsInSlots([A.slot, B.slot, C.slot])
    .map(({ key, value, version, expiresAt }) => `${key}=${value.toString()}@${version}${expiresAt === null ? '' : `~${expiresAt}`}`)
    .sort();
}

/** A SlotState as plain data, fenced slots sorted. */
const plain = ({ fenced, versionOffset }: SlotState): { fenced: number[]; versionOffset: number } => ({
  fenced: [...fenced].sort((x, y) => x - y),
  versionOffset,
});
const slotsOf = (store: KvStore): ReturnType<typeof plain> => plain(store.slots);

const counts = (store: KvStore): number[] => [A.slot, B.slot, C.slot].map((slot) => store.keysInSlot(slot));

/**
 * The sequence both stores must agree on, checked step by step: fence,
 * purge (fenced slots only), unfence, import with and without clear,
 * versions from seq plus the offset, expire of an imported version.
 */
function playSequence(subject: Subject): void {
  const { store } = subject;
  subject.apply(put(a1, 'A1'), put(a2, 'A2'), put(b1, 'B1'), put(b2, 'B2'), put(c1, 'C1', NOW + 10));
  assert.deepEqual(counts(store), [2, 2, 1]);
  assert.deepEqual(slotsOf(store), { fenced: [], versionOffset: 0 });

  subject.apply({ type: 'fence', slots: [A.slot, B.slot] }); // seq 6
  assert.deepEqual(slotsOf(store), { fenced: [A.slot, B.slot].sort((x, y) => x - y), versionOffset: 0 });
  assert.equal(store.get(a1)?.value.toString(), 'A1', 'fencing removes nothing');

  subject.apply({ type: 'purge', keys: [a1, b1, c1, 'never-written'] }); // seq 7
  assert.equal(store.get(a1), undefined);
  assert.equal(store.get(b1), undefined);
  assert.equal(store.get(c1)?.value.toString(), 'C1', 'a key of an unfenced slot is left alone');
  assert.deepEqual(counts(store), [1, 1, 1]);

  subject.apply({ type: 'unfence', slots: [B.slot] }); // seq 8
  subject.apply({ type: 'purge', keys: [b2] }); // seq 9
  assert.equal(store.get(b2)?.value.toString(), 'B2', 'an unfenced (aborted) slot keeps its keys');
  assert.deepEqual(slotsOf(store).fenced, [A.slot]);

  subject.apply({ type: 'import', slots: [A.slot], clear: true, versionFloor: 100, records: [record(a1, 'imported', 50), record(a3, 'ttl', 90, NOW + 5)] }); // seq 10
  assert.equal(store.get(a2), undefined, 'clear drops what the partition still held of the slot');
  assert.deepEqual(store.get(a1), { value: Buffer.from('imported'), version: 50, expiresAt: null }, 'imported records keep their versions');
  assert.deepEqual(slotsOf(store), { fenced: [], versionOffset: 100 }, 'clear unfences; the offset rises to the floor');

  subject.apply(put(c2, 'C2')); // seq 11
  assert.equal(store.get(c2)?.version, 111, 'a write’s version is its seq plus the offset');

  subject.apply({ type: 'import', slots: [B.slot], clear: false, versionFloor: 20, records: [record(b3, 'B3', 7)] }); // seq 12
  assert.equal(store.get(b2)?.value.toString(), 'B2', 'an import without clear keeps what is there');
  assert.equal(store.slots.versionOffset, 100, 'the offset never goes down');

  assert.deepEqual(store.dueForExpiry(NOW + 10, 10), [
    { key: a3, version: 90, expiresAt: NOW + 5 },
    { key: c1, version: 5, expiresAt: NOW + 10 },
  ]);
  subject.apply({ type: 'expire', key: a3, version: 90 }, { type: 'delete', key: c1 }, { type: 'noop' }); // seq 13-15
  subject.apply(put(b1, 'B1 again')); // seq 16
  assert.equal(store.appliedSeq, 16);
}

const FINAL_STATE = [`${a1}=imported@50`, `${b1}=B1 again@116`, `${b2}=B2@4`, `${b3}=B3@7`, `${c2}=C2@111`].sort();

describe('stores: the resharding operations', () => {
  it('the memory store applies fence, purge, unfence, import and puts after an import as specified', () => {
    const subject = memorySubject();
    playSequence(subject);
    assert.deepEqual(stateOf(subject.store), FINAL_STATE);
    assert.deepEqual(counts(subject.store), [1, 3, 1]);
    assert.deepEqual(slotsOf(subject.store), { fenced: [], versionOffset: 100 });
  });

  it('the durable store ends in the same state, before and after its writes are committed', () =>
    withDurable(async (opened) => {
      const memory = memorySubject();
      playSequence(memory);
      playSequence(durableSubject(opened));
      assert.deepEqual(stateOf(opened.store), stateOf(memory.store), 'read through the overlay');
      assert.deepEqual(slotsOf(opened.store), slotsOf(memory.store));
      await opened.store.settled();
      assert.equal(opened.store['overlay'].size, 0);
      assert.deepEqual(stateOf(opened.store), FINAL_STATE, 'read from disk');
      assert.deepEqual(counts(opened.store), counts(memory.store));
      const snapshot = opened.store.openSnapshot();
      try {
        assert.deepEqual(plain(snapshot.slots), slotsOf(memory.store));
        assert.equal([...snapshot.records].length, FINAL_STATE.length);
      } finally {
        snapshot.close();
      }
    }));

  it('lists some keys of given slots, at most the limit', () => {
    const subject = memorySubject();
    subject.apply(put(a1, '1'), put(a2, '2'), put(b1, '3'), put(c1, '4'));
    assert.deepEqual(subject.store.someKeysInSlots([A.slot, B.slot], 10).sort(), [a1, a2, b1].sort());
    assert.equal(subject.store.someKeysInSlots([A.slot, B.slot], 2).length, 2);
    assert.deepEqual(subject.store.someKeysInSlots([A.slot], 0), []);
    assert.deepEqual(subject.store.someKeysInSlots([], 5), []);
    assert.deepEqual([subject.store.keysInSlot(C.slot), subject.store.keysInSlot(-1), subject.store.keysInSlot(4096)], [1, 0, 0]);
  });

  it('a memory store with maxKeys drops evicted keys from the slot index', () => {
    const subject = memorySubject(new MemoryStore({ maxKeys: 2 }));
    subject.apply(put(a1, '1'), put(a2, '2'), put(a3, '3'));
    assert.equal(subject.store.keysInSlot(A.slot), 2);
    assert.deepEqual(subject.store.someKeysInSlots([A.slot], 10).sort(), [a2, a3].sort());
    assert.deepEqual(subject.store.recordsInSlots([A.slot]).map(({ key }) => key).sort(), [a2, a3].sort());
  });

  it('a memory store’s snapshot carries its slot state, and a restore takes it (and resets it first)', () => {
    const source = memorySubject();
    source.apply(put(a1, '1'), { type: 'fence', slots: [A.slot] }, { type: 'import', slots: [B.slot], clear: true, versionFloor: 40, records: [] });
    const snapshot = source.store.openSnapshot();
    source.apply({ type: 'unfence', slots: [A.slot] });
    assert.deepEqual([...snapshot.slots.fenced], [A.slot], 'later applies do not change a snapshot');

    const target = memorySubject();
    target.apply({ type: 'fence', slots: [C.slot] }, put(c1, 'x'));
    target.store.beginRestore();
    assert.deepEqual(slotsOf(target.store), { fenced: [], versionOffset: 0 });
    assert.equal(target.store.keysInSlot(C.slot), 0);
    target.store.restoreRecords([...snapshot.records]);
    target.store.finishRestore(snapshot.seq, snapshot.epoch, snapshot.slots);
    assert.deepEqual(slotsOf(target.store), { fenced: [A.slot], versionOffset: 40 });
    assert.equal(target.store.keysInSlot(A.slot), 1);
    target.apply(put(a2, '2'));
    assert.equal(target.store.get(a2)?.version, 44);
  });

  it('the durable store persists fenced slots and the offset with the applied point, in the same transaction', () =>
    withDurable(async (opened) => {
      await warmUp(opened.engine);
      const commits = countCommits(opened.engine);
      durableSubject(opened).apply({ type: 'fence', slots: [B.slot, A.slot] });
      await opened.store.settled();
      assert.equal(commits.count, 1);
      const meta = opened.engine.readMeta();
      assert.deepEqual(meta.slots, { fenced: [A.slot, B.slot].sort((x, y) => x - y), versionOffset: 0 });
      assert.deepEqual(meta.applied, { seq: 1, epoch: 1 });
    }));

  it('the durable store reopens with its fenced slots, its offset and a slot index rebuilt from disk', async () => {
    const dir = tempDataDir('store-slots');
    const first = await openStorage(dir);
    const subject = durableSubject(first);
    subject.apply(put(a1, '1'), put(b1, '2'), put(b2, '3'), { type: 'fence', slots: [B.slot] });
    subject.apply({ type: 'import', slots: [C.slot], clear: true, versionFloor: 1000, records: [record(c1, 'c', 999)] });
    const before = { state: stateOf(first.store), slots: slotsOf(first.store), counts: counts(first.store) };
    await closeStorage(first);

    const second = await openStorage(dir);
    try {
      assert.deepEqual(slotsOf(second.store), { fenced: [B.slot], versionOffset: 1000 });
      assert.deepEqual(before.slots, slotsOf(second.store));
      assert.deepEqual(counts(second.store), before.counts);
      assert.deepEqual(stateOf(second.store), before.state);
      durableSubject(second).apply(put(a2, 'after'));
      assert.equal(second.store.get(a2)?.version, 1006);
      durableSubject(second).apply({ type: 'purge', keys: [b1, b2, a1] });
      assert.deepEqual(counts(second.store), [2, 0, 1]);
    } finally {
      await closeStorage(second);
    }
  });

  it('the durable store restores a snapshot’s slot state, resets it while installing, and keeps it across a reopen', async () => {
    const dir = tempDataDir('store-slots');
    const opened = await openStorage(dir);
    durableSubject(opened).apply({ type: 'fence', slots: [C.slot] }, put(c1, 'old'));
    await opened.store.settled();
    opened.log.resetTo(0, 0);
    opened.store.beginRestore();
    assert.deepEqual(slotsOf(opened.store), { fenced: [], versionOffset: 0 });
    assert.equal(opened.store.keysInSlot(C.slot), 0);
    opened.store.restoreRecords([record(a1, 'A', 70), record(a2, 'B', 71)]);
    const slots: SlotState = { fenced: new Set([A.slot]), versionOffset: 60 };
    opened.store.finishRestore(80, 1, slots);
    opened.log.resetTo(80, 1);
    await opened.store.settled();
    assert.deepEqual(opened.engine.readMeta().slots, { fenced: [A.slot], versionOffset: 60 });
    await closeStorage(opened);

    const reopened = await openStorage(dir);
    try {
      assert.deepEqual(slotsOf(reopened.store), { fenced: [A.slot], versionOffset: 60 });
      assert.deepEqual(counts(reopened.store), [2, 0, 0]);
      durableSubject(reopened).apply(put(b1, 'x'));
      assert.equal(reopened.store.get(b1)?.version, 141);
    } finally {
      await closeStorage(reopened);
    }
  });

  it('recovery refuses a malformed stored slot state', async () => {
    const dir = tempDataDir('store-slots');
    await closeStorage(await openStorage(dir));
    await withEngine(dir, (engine) => void engine.putMeta('slots', { fenced: [4096], versionOffset: 0 } as SlotStateJson));
    await assert.rejects(openStorage(dir), (error: unknown) => error instanceof UnrecoverableStorageError && /slots\.fenced/.test(error.message));
  });
});
