import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Replica } from '../src/replication/replica';
import { SimCluster, bytes, track } from './support/sim-cluster';

const put = (replica: Replica, key: string, value: string) => replica.put(key, bytes(value), undefined, {});

const valueAt = (sim: SimCluster, id: string, key: string): string | undefined => sim.node(id).store.get(key)?.value.toString();

const strongRead = async (replica: Replica, key: string): Promise<string | undefined> => (await replica.read(key, 'strong'))?.value.toString();

/** a led epoch 1 and wrote k=v1; then it froze, b took over at epoch 2, and a runs again believing it leads. */
async function deposedLeaderComesBack(): Promise<SimCluster> {
  const sim = await SimCluster.started();
  await put(sim.replica('a'), 'k', 'v1');
  sim.freeze('a');
  await sim.elect('b');
  const incarnations = { b: sim.node('b').incarnation, c: sim.node('c').incarnation };
  assert.deepEqual(sim.coordination.state, { epoch: 2, leader: 'b', isr: ['b', 'c'], incarnations });
  sim.thaw('a');
  assert.equal(sim.replica('a').role, 'leader', 'a has not heard of epoch 2');
  return sim;
}

describe('failover', () => {
  it('keeps every acknowledged write when an in-sync follower takes over', async () => {
    const sim = await SimCluster.started();
    for (let index = 0; index < 10; index++) await put(sim.replica('a'), `k${index}`, `v${index}`);
    sim.kill('a');
    await sim.elect('c');
    for (let index = 0; index < 10; index++) assert.equal(await strongRead(sim.replica('c'), `k${index}`), `v${index}`);
    await sim.settle();
    assert.equal(valueAt(sim, 'b', 'k9'), 'v9');
  });

  it('serves a strong read only once the new leader’s noop has committed', async () => {
    const sim = await SimCluster.started();
    await put(sim.replica('a'), 'x', 'acknowledged');
    sim.kill('a'); // before it told its followers that x is committed
    assert.equal(valueAt(sim, 'b', 'x'), undefined, 'b has x in its log, not yet applied');
    sim.network.pause(sim.url('c'));
    await sim.elect('b');
    const read = track(strongRead(sim.replica('b'), 'x'));
    await sim.settle();
    assert.equal(read.state, 'pending', 'the noop needs c');
    sim.network.resume(sim.url('c'));
    await sim.settle();
    assert.equal(read.value, 'acknowledged');
  });

  it('fences a deposed leader: its write fails, it steps down, and no replica applies it', async () => {
    const sim = await deposedLeaderComesBack();
    await assert.rejects(put(sim.replica('a'), 'k', 'v2'), { code: 'TIMEOUT' });
    assert.equal(sim.replica('a').role, 'follower');
    await sim.settle();
    assert.equal(await strongRead(sim.replica('b'), 'k'), 'v1');
    assert.equal(valueAt(sim, 'c', 'k'), 'v1');
  });

  it('fences a deposed leader: it refuses a strong read with NOT_LEADER', async () => {
    const sim = await deposedLeaderComesBack();
    await assert.rejects(sim.replica('a').read('k', 'strong'), { code: 'NOT_LEADER' });
    assert.equal(sim.replica('a').role, 'follower');
  });

  it('makes a deposed leader that rejoins as a follower drop its unacknowledged tail', async () => {
    const sim = await deposedLeaderComesBack();
    const lost = track(put(sim.replica('a'), 'k', 'v2'));
    await sim.settle();
    assert.equal(lost.state, 'rejected');
    assert.equal(sim.node('a').log.epochAt(3), 1, 'a still holds its epoch-1 entry 3');
    sim.rejoin('a');
    await put(sim.replica('b'), 'k', 'v3');
    await sim.settle();
    assert.equal(sim.node('a').log.epochAt(3), 2, 'entry 3 is now b’s noop');
    assert.equal(sim.node('a').log.lastSeq, sim.node('b').log.lastSeq);
    assert.equal(valueAt(sim, 'a', 'k'), 'v3');
    assert.equal(sim.node('a').store.appliedSeqs.includes(3), true);
  });

  it('makes followers drop an old leader’s unreplicated tail that the new leader lacks', async () => {
    const sim = await SimCluster.started();
    sim.network.pause(sim.url('c'));
    const unacknowledged = track(put(sim.replica('a'), 'x', 'never acknowledged'));
    await sim.settle();
    assert.deepEqual([sim.node('b').log.lastSeq, sim.node('c').log.lastSeq], [2, 1]);
    sim.kill('a');
    sim.network.resume(sim.url('c'));
    await sim.elect('c');
    await sim.settle();
    assert.equal(unacknowledged.state, 'rejected');
    assert.equal(sim.node('b').log.epochAt(2), 2, 'b replaced x by c’s noop');
    assert.equal(await strongRead(sim.replica('c'), 'x'), undefined);
    assert.equal(valueAt(sim, 'b', 'x'), undefined);
  });
});

describe('catch-up', () => {
  it('brings a follower that was cut off back level, then back into the in-sync set', async () => {
    const sim = await SimCluster.started();
    sim.network.cut(sim.url('c'));
    for (let index = 0; index < 5; index++) await put(sim.replica('a'), `k${index}`, `v${index}`);
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b']);
    sim.network.heal(sim.url('c'));
    await sim.advance(100);
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b', 'c']);
    assert.deepEqual(sim.replica('a').status().isr, ['a', 'b', 'c']);
    assert.equal(valueAt(sim, 'c', 'k4'), 'v4');
    assert.deepEqual(sim.node('c').store.appliedSeqs, [1, 2, 3, 4, 5, 6]);
  });

  it('sends a snapshot, then the log tail, to a fresh follower when the leader has compacted its log', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { maxLogEntries: 4 });
    for (let index = 0; index < 20; index++) await put(sim.replica('a'), `k${index}`, `v${index}`);
    await sim.settle();
    assert.equal(sim.node('a').log.baseSeq > 1, true, 'the leader compacted');
    sim.restartFresh('c');
    await sim.advance(100);
    assert.equal(sim.network.countCalls('installSnapshot', sim.url('c')), 1);
    assert.equal(sim.network.countCalls('fetchSnapshot', sim.url('a')), 1);
    for (let index = 0; index < 20; index++) assert.equal(valueAt(sim, 'c', `k${index}`), `v${index}`);
    assert.equal(sim.node('c').store.get('k0')?.version, 2, 'versions travel with the snapshot');
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b', 'c']);
    await put(sim.replica('a'), 'after', 'tail');
    await sim.settle();
    assert.equal(valueAt(sim, 'c', 'after'), 'tail');
    assert.equal(sim.network.countCalls('installSnapshot', sim.url('c')), 1, 'the tail came through the log');
  });
});
