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
const valueOf = (store: MemoryStore, key: string, now = NOW): string | undefined => store.get(key, now)?.value.toString();

describe('MemoryStore', () => {
  it('applies puts and deletes, the version being the entry’s seq', () => {
    const store = new MemoryStore();
    applyAll(store, put('a', '1'), put('b', '2'), put('a', '3'), del('b'), { type: 'noop' });
    assert.equal(store.appliedSeq, 5);
    assert.deepEqual(store.get('a', NOW), { value: Buffer.from('3'), version: 3, expiresAt: null });
    assert.equal(store.get('b', NOW), undefined);
    assert.equal(store.size, 1);
  });

  it('refuses an entry applied twice or out of order', () => {
    const store = new MemoryStore();
    applyAll(store, put('a', '1'), put('a', '2'));
    assert.throws(() => store.apply({ seq: 2, epoch: 1, op: put('a', 'again') }), /applied twice/);
    assert.equal(valueOf(store, 'a'), '2');
  });

  it('hides a value from its absolute expiry on', () => {
    const store = new MemoryStore();
    applyAll(store, put('t', 'x', NOW + 1000));
    assert.equal(valueOf(store, 't', NOW + 999), 'x');
    assert.equal(valueOf(store, 't', NOW + 1000), undefined);
    assert.equal(valueOf(store, 't', NOW + 5000), undefined);
  });

  it('sweeps expired values out and counts them', () => {
    const store = new MemoryStore();
    applyAll(store, put('gone', 'x', NOW - 1), put('soon', 'x', NOW + 10), put('forever', 'x'));
    assert.equal(store.sweepExpired(NOW), 1);
    assert.equal(store.size, 2);
    assert.equal(store.sweepExpired(NOW + 10), 1);
    assert.equal(store.size, 1);
    assert.equal(valueOf(store, 'forever'), 'x');
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

  it('snapshots live records and restores them into another store', () => {
    const source = new MemoryStore();
    applyAll(source, put('a', '1'), put('b', '2', NOW + 100), put('old', 'x', NOW - 1), del('a'), put('c', '3'));
    const snapshot = source.openSnapshot(NOW);
    const records = [...snapshot.records];
    assert.equal(snapshot.seq, 5);
    assert.deepEqual(records.map((record) => [record.key, record.version]).sort(), [['b', 2], ['c', 5]]);

    const target = new MemoryStore();
    applyAll(target, put('stale', 'x'));
    target.beginRestore();
    assert.equal(valueOf(target, 'stale'), undefined, 'the state is empty while a restore is under way');
    target.restoreRecords(records);
    target.finishRestore(snapshot.seq, snapshot.epoch);
    assert.equal(target.appliedSeq, 5);
    assert.equal(valueOf(target, 'stale'), undefined, 'restore replaces the whole state');
    assert.deepEqual(target.get('b', NOW), { value: Buffer.from('2'), version: 2, expiresAt: NOW + 100 });
    assert.equal(valueOf(target, 'b', NOW + 100), undefined, 'expiry travels with the record');
    applyAll(target, put('d', '4'));
    assert.equal(target.get('d', NOW)?.version, 6);
  });

  it('takes a snapshot that later applies do not change', () => {
    const store = new MemoryStore();
    applyAll(store, put('a', '1'));
    const snapshot = store.openSnapshot(NOW);
    applyAll(store, put('a', '2'), put('b', '3'));
    assert.deepEqual([...snapshot.records].map((record) => [record.key, record.value.toString(), record.version]), [['a', '1', 1]]);
  });
});
