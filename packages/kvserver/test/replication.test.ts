import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvError } from '@kvstore/protocol';
import type { Replica } from '../src/replication/replica';
import type { Precondition } from '../src/replication/precondition';
import { SimCluster, bytes, track } from './support/sim-cluster';

const put = (replica: Replica, key: string, value: string, precondition: Precondition = {}) => replica.put(key, bytes(value), undefined, precondition);

const valueAt = (sim: SimCluster, id: string, key: string): string | undefined => sim.node(id).store.get(key)?.value.toString();

describe('replication: writes in sync mode', () => {
  it('gives writes increasing versions, and every replica applies them in log order', async () => {
    const sim = await SimCluster.started();
    const leader = sim.replica('a');
    const incarnations = { b: sim.node('b').incarnation, c: sim.node('c').incarnation };
    assert.deepEqual(sim.coordination.state, { epoch: 1, leader: 'a', isr: ['a', 'b', 'c'], incarnations }, 'each follower is recorded with the registration that caught up');
    const one = await put(leader, 'k1', 'v1');
    const concurrent = await Promise.all([put(leader, 'k2', 'v2'), put(leader, 'k1', 'v3'), leader.delete('k2', {})]);
    const versions = [one, ...concurrent].map((result) => result.version);
    assert.deepEqual(versions, [2, 3, 4, 5], 'seq 1 is the leader’s noop');
    await sim.settle();
    for (const id of ['a', 'b', 'c']) {
      assert.deepEqual(sim.node(id).store.appliedSeqs, [1, 2, 3, 4, 5], `applied order on ${id}`);
      assert.equal(valueAt(sim, id, 'k1'), 'v3');
      assert.equal(valueAt(sim, id, 'k2'), undefined);
      assert.equal(sim.node(id).store.get('k1')?.version, 4);
    }
  });

  it('acknowledges only after every in-sync follower appended, dropping a silent one after --replica-timeout', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { replicaTimeoutMs: 500, writeTimeoutMs: 1000 });
    sim.network.pause(sim.url('c'));
    const write = track(put(sim.replica('a'), 'k', 'v'));
    await sim.advance(499);
    assert.equal(write.state, 'pending');
    assert.equal(sim.node('b').log.lastSeq, 2, 'b has appended the entry');
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b', 'c']);
    await sim.advance(1);
    assert.equal(write.state, 'fulfilled');
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b']);
  });

  it('keeps a cut-off follower required until its removal is stored in ZooKeeper', async () => {
    const sim = await SimCluster.started();
    sim.coordination.block();
    sim.network.cut(sim.url('c'));
    const write = track(put(sim.replica('a'), 'k', 'v'));
    await sim.advance(300);
    assert.equal(write.state, 'pending', 'the removal of c is not stored yet');
    sim.coordination.unblock();
    await sim.settle();
    assert.equal(write.state, 'fulfilled');
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b']);
    assert.deepEqual(sim.replica('a').status().isr, ['a', 'b']);
  });

  it('refuses writes with 503 before they reach the log once the leader cannot persist (a full disk)', async () => {
    const sim = await SimCluster.started();
    const leader = sim.replica('a');
    await put(leader, 'k', 'v');
    const lastSeq = sim.node('a').log.lastSeq;
    sim.node('a').store.failure = new Error('ENOSPC: no space left on device');
    await assert.rejects(put(leader, 'k', 'w'), (error: KvError) => error.code === 'UNAVAILABLE' && /ENOSPC/.test(error.message));
    assert.equal(sim.node('a').log.lastSeq, lastSeq, 'nothing reached the log');
    assert.equal(valueAt(sim, 'a', 'k'), 'v');
    assert.equal((await leader.read('k', 'strong'))?.value.toString(), 'v', 'reads go on');
  });

  it('refuses a write with 503 before it reaches the log when the in-sync set is below --min-insync', async () => {
    const sim = await SimCluster.started(['a', 'b'], { minInsync: 2 });
    sim.kill('b');
    await sim.settle();
    assert.deepEqual(sim.coordination.state.isr, ['a']);
    const lastSeq = sim.node('a').log.lastSeq;
    await assert.rejects(put(sim.replica('a'), 'k', 'v'), { code: 'UNAVAILABLE', status: 503 });
    assert.equal(sim.node('a').log.lastSeq, lastSeq, 'nothing was appended');
  });

  it('answers 504 for a write already in the log when the in-sync set shrinks below --min-insync', async () => {
    const sim = await SimCluster.started(['a', 'b'], { minInsync: 2 });
    sim.network.pause(sim.url('b'));
    const write = track(put(sim.replica('a'), 'k', 'v'));
    await sim.advance(600);
    assert.equal(write.state, 'rejected');
    assert.equal((write.error as { code: string }).code, 'TIMEOUT');
  });

  it('answers 504 TIMEOUT when the write cannot be confirmed within --write-timeout', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { writeTimeoutMs: 1000, replicaTimeoutMs: 500 });
    sim.coordination.block(); // ZooKeeper too slow to store the removal of the silent follower
    sim.network.pause(sim.url('c'));
    const write = track(put(sim.replica('a'), 'k', 'v'));
    await sim.advance(999);
    assert.equal(write.state, 'pending');
    await sim.advance(1);
    assert.equal(write.state, 'rejected');
    assert.equal((write.error as { code: string; status: number }).status, 504);
    sim.coordination.unblock();
  });
});

describe('replication: async mode', () => {
  it('acknowledges after the leader’s own append; followers catch up in the background', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { mode: 'async' });
    sim.network.pause(sim.url('b'));
    sim.network.pause(sim.url('c'));
    const { version } = await put(sim.replica('a'), 'k', 'v');
    assert.equal(sim.node('b').log.lastSeq < version, true);
    assert.equal(valueAt(sim, 'a', 'k'), undefined, 'the state shows it only once every in-sync replica holds it');
    const read = track(sim.replica('a').read('k', 'strong'));
    await sim.advance(10);
    assert.equal(read.state, 'pending', 'a strong read waits for the acknowledged write to be held by the in-sync followers');
    sim.network.resume(sim.url('b'));
    sim.network.resume(sim.url('c'));
    await sim.settle();
    assert.equal((read.value as { value: Buffer } | undefined)?.value.toString(), 'v');
    assert.deepEqual([valueAt(sim, 'a', 'k'), valueAt(sim, 'b', 'k'), valueAt(sim, 'c', 'k')], ['v', 'v', 'v']);
  });
});

describe('replication: conditional writes and deletes', () => {
  it('honours If-Match and If-None-Match against committed versions', async () => {
    const sim = await SimCluster.started();
    const leader = sim.replica('a');
    const created = await put(leader, 'k', 'v1', { ifNoneMatch: true });
    await assert.rejects(put(leader, 'k', 'again', { ifNoneMatch: true }), { code: 'PRECONDITION_FAILED', status: 412 });
    await assert.rejects(put(leader, 'k', 'v2', { ifMatch: created.version + 100 }), { code: 'PRECONDITION_FAILED' });
    await assert.rejects(put(leader, 'absent', 'v', { ifMatch: '*' }), { code: 'PRECONDITION_FAILED' });
    const updated = await put(leader, 'k', 'v2', { ifMatch: created.version });
    await put(leader, 'k', 'v3', { ifMatch: '*' });
    await assert.rejects(leader.delete('k', { ifMatch: updated.version }), { code: 'PRECONDITION_FAILED' });
    assert.equal((await leader.read('k', 'strong'))?.value.toString(), 'v3');
  });

  it('checks conditions against a pending write, answering a failed one only once the pending write commits', async () => {
    const sim = await SimCluster.started();
    const leader = sim.replica('a');
    sim.network.pause(sim.url('c'));
    const first = track(put(leader, 'k', 'v1'));
    const onPending = track(put(leader, 'k', 'v2', { ifMatch: 2 }));
    const createOnly = track(put(leader, 'k', 'v3', { ifNoneMatch: true }));
    await sim.settle();
    assert.deepEqual([first.state, onPending.state, createOnly.state], ['pending', 'pending', 'pending']);
    sim.network.resume(sim.url('c'));
    await sim.settle();
    assert.deepEqual(first.value, { version: 2 });
    assert.deepEqual(onPending.value, { version: 3 });
    assert.equal((createOnly.error as { code: string }).code, 'PRECONDITION_FAILED');
    assert.equal((await leader.read('k', 'strong'))?.value.toString(), 'v2');
  });

  it('deletes: deleted:true for a present key, deleted:false for an absent one, each with a version', async () => {
    const sim = await SimCluster.started();
    const leader = sim.replica('a');
    await put(leader, 'k', 'v');
    assert.deepEqual(await leader.delete('k', {}), { version: 3, deleted: true });
    assert.deepEqual(await leader.delete('k', {}), { version: 4, deleted: false });
    assert.deepEqual(await leader.delete('never', {}), { version: 5, deleted: false });
    assert.equal(await leader.read('k', 'strong'), undefined);
  });
});

describe('replication: strong reads', () => {
  it('confirms leadership for many concurrent strong reads with one round to each follower', async () => {
    const sim = await SimCluster.started();
    const leader = sim.replica('a');
    await put(leader, 'k', 'v');
    await sim.settle();
    const before = sim.network.countCalls('append');
    const values = await Promise.all(Array.from({ length: 20 }, () => leader.read('k', 'strong')));
    await sim.settle();
    assert.deepEqual(new Set(values.map((value) => value?.value.toString())), new Set(['v']));
    assert.equal(sim.network.countCalls('append') - before, 2, 'one append per follower');
  });

  it('is refused by a follower with NOT_LEADER naming the leader', async () => {
    const sim = await SimCluster.started();
    await assert.rejects(sim.replica('b').read('k', 'strong'), { code: 'NOT_LEADER', leader: sim.url('a') });
    // Replica.put throws synchronously when not leading, so it is called inside an async function.
    await assert.rejects(async () => put(sim.replica('b'), 'k', 'v'), { code: 'NOT_LEADER', leader: sim.url('a') });
  });
});
