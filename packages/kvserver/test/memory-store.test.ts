import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEntry } from '../src/replication/entry';
import { MemoryStore } from '../src/store/memory-store';

const NOW = 1_000_000;

/** Applies puts and deletes in order, numbering them from the store's next seq. */
function applyAll(store: MemoryStore, ...ops: LogEntry['op'][]): void {
  for (const op of ops) store.apply({ seq: store.appliedSeq + 1, epoch: 1, op });
}

const put = (key: string, value: string, expiresAt: number | null = null): LogEntry['op'] => ({ type: 'put', key, value: Buffer.from(value), expiresAt });
const del = (key: string): LogEntry['op'] => ({ type: 'delete', key });
const valueOf = (store: MemoryStore, key: string): string | undefined => store.get(key)?.value.toString();

describe('MemoryStore', () => {
  it('applies puts and deletes, the version being the entry’s seq', () => {
    const store = new MemoryStore();
    applyAll(store, put('a', '1'), put('b', '2'), put('a', '3'), del('b'), { type: 'noop' });
    assert.equal(store.appliedSeq, 5);
    assert.deepEqual(store.get('a'), { value: Buffer.from('3'), version: 3, expiresAt: null });
    assert.equal(store.get('b'), undefined);
    assert.equal(store.size, 1);
  });

  it('refuses an entry applied twice or out of order', () => {
    const store = new MemoryStore();
    applyAll(store, put('a', '1'), put('a', '2'));
    assert.throws(() => store.apply({ seq: 2, epoch: 1, op: put('a', 'again') }), /applied twice/);
    assert.equal(valueOf(store, 'a'), '2');
  });

  it('keeps a value past its expiry until an expire entry of that version is applied', () => {
    const store = new MemoryStore();
    applyAll(store, put('t', 'x', NOW + 1000));
    assert.equal(valueOf(store, 't'), 'x', 'no replica judges expiry by its own clock');
    applyAll(store, { type: 'expire', key: 't', version: 99 });
    assert.equal(valueOf(store, 't'), 'x', 'an expiry of another version changes nothing');
    applyAll(store, { type: 'expire', key: 't', version: 1 });
    assert.equal(valueOf(store, 't'), undefined);
    assert.equal(store.appliedSeq, 3);
  });

  it('lists the values due for expiry, soonest first, until their expiry is applied', () => {
    const store = new MemoryStore();
    applyAll(store, put('later', 'x', NOW + 10), put('gone', 'x', NOW - 1), put('forever', 'x'), put('rewritten', 'x', NOW - 5));
    applyAll(store, put('rewritten', 'y'));
    assert.deepEqual(store.dueForExpiry(NOW, 10), [{ key: 'gone', version: 2, expiresAt: NOW - 1 }]);
    assert.deepEqual(store.dueForExpiry(NOW, 10).map(({ key }) => key), ['gone'], 'still due: nothing expired it yet');
    assert.deepEqual(store.dueForExpiry(NOW + 10, 10).map(({ key }) => key), ['gone', 'later']);
    assert.deepEqual(store.dueForExpiry(NOW + 10, 1).map(({ key }) => key), ['gone'], 'at most the limit');
    applyAll(store, { type: 'expire', key: 'gone', version: 2 });
    assert.deepEqual(store.dueForExpiry(NOW + 10, 10).map(({ key }) => key), ['later']);
  });

  it('with maxKeys, evicts the least recently written key first', () => {
    const store = new MemoryStore({ maxKeys: 2 });
    applyAll(store, put('a', '1'), put('b', '2'), put('c', '3'));
    assert.equal(store.size, 2);
    assert.equal(valueOf(store, 'a'), undefined);
    assert.deepEqual([valueOf(store, 'b'), valueOf(store, 'c')], ['2', '3']);
  });

  it('with maxKeys, a read makes a key recently used', () => {
    const store = new MemoryStore({ maxKeys: 2 });
    applyAll(store, put('a', '1'), put('b', '2'));
    assert.equal(valueOf(store, 'a'), '1');
    applyAll(store, put('c', '3'));
    assert.equal(valueOf(store, 'b'), undefined, 'b was least recently used');
    assert.deepEqual([valueOf(store, 'a'), valueOf(store, 'c')], ['1', '3']);
  });

  it('snapshots every record and restores them into another store', () => {
    const source = new MemoryStore();
    applyAll(source, put('a', '1'), put('b', '2', NOW + 100), put('old', 'x', NOW - 1), del('a'), put('c', '3'));
    const snapshot = source.openSnapshot();
    const records = [...snapshot.records];
    assert.equal(snapshot.seq, 5);
    // A value past its expiry travels too: only the leader's expire entry removes it, on every replica alike.
    assert.deepEqual(records.map((record) => [record.key, record.version]).sort(), [['b', 2], ['c', 5], ['old', 3]]);

    const target = new MemoryStore();
    applyAll(target, put('stale', 'x'));
    target.beginRestore();
    assert.equal(valueOf(target, 'stale'), undefined, 'the state is empty while a restore is under way');
    target.restoreRecords(records);
    target.finishRestore(snapshot.seq, snapshot.epoch, snapshot.slots);
    assert.equal(target.appliedSeq, 5);
    assert.equal(valueOf(target, 'stale'), undefined, 'restore replaces the whole state');
    assert.deepEqual(target.get('b'), { value: Buffer.from('2'), version: 2, expiresAt: NOW + 100 });
    assert.deepEqual(target.dueForExpiry(NOW + 100, 10).map(({ key }) => key), ['old', 'b'], 'expiry travels with the record');
    applyAll(target, put('d', '4'));
    assert.equal(target.get('d')?.version, 6);
  });

  it('takes a snapshot that later applies do not change', () => {
    const store = new MemoryStore();
    applyAll(store, put('a', '1'));
    const snapshot = store.openSnapshot();
    applyAll(store, put('a', '2'), put('b', '3'));
    assert.deepEqual([...snapshot.records].map((record) => [record.key, record.value.toString(), record.version]), [['a', '1', 1]]);
  });
});
