import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Replica } from '../src/replication/replica';
import { SimCluster, bytes, track, type Tracked } from './support/sim-cluster';

const put = (replica: Replica, key: string, value: string) => replica.put(key, bytes(value), undefined, {});

const strongRead = async (replica: Replica, key: string): Promise<string | undefined> => (await replica.read(key, 'strong'))?.value.toString();

/** Every write either acknowledged, or refused as not applied (NOT_LEADER: a gate sends it again to the new leader). */
function assertNoClientError(writes: readonly Tracked<unknown>[]): void {
  for (const write of writes) {
    assert.notEqual(write.state, 'pending');
    if (write.state === 'rejected') assert.equal((write.error as { code?: string }).code, 'NOT_LEADER', String(write.error));
  }
}

describe('planned leader transfer', () => {
  it('hands the lead to the target with no acknowledged write lost; writes that came during it are refused unapplied', async () => {
    const sim = await SimCluster.started();
    const keys = Array.from({ length: 20 }, (_, index) => `k${index}`);
    const before = keys.slice(0, 10).map((key) => track(put(sim.replica('a'), key, key)));
    const transfer = track(sim.replica('a').transferLeadership('b', 10_000));
    const during = keys.slice(10).map((key) => track(put(sim.replica('a'), key, key)));
    await sim.advance(100);
    assert.deepEqual(transfer.value, { from: 'a', to: 'b', epoch: 1 });
    assertNoClientError([...before, ...during]);
    assert.equal(sim.replica('a').role, 'follower');
    assert.equal(sim.coordination.state.leader, null);
    assert.equal(sim.coordination.state.transferTo, 'b');
    await assert.rejects(sim.elect('c'), /may not lead/, 'only the target may campaign');
    await sim.elect('b');
    assert.equal(sim.coordination.state.transferTo, undefined, 'the winner clears it');
    const acknowledged = [...before, ...during].flatMap((write, index) => (write.state === 'fulfilled' ? [keys[index]!] : []));
    assert.ok(acknowledged.length >= 10, 'the writes before the transfer were all acknowledged');
    for (const key of keys) {
      const value = await strongRead(sim.replica('b'), key);
      if (acknowledged.includes(key)) assert.equal(value, key);
      else assert.equal(value, undefined, `${key} was refused and must not be applied`);
    }
  });

  it('holds writes that arrive while the last entries commit, then refuses them unapplied for the new leader', async () => {
    const sim = await SimCluster.started();
    sim.network.pause(sim.url('b'));
    const inFlight = track(put(sim.replica('a'), 'k1', 'v1'));
    const transfer = track(sim.replica('a').transferLeadership('b', 10_000));
    await sim.settle();
    const held = track(put(sim.replica('a'), 'k2', 'v2'));
    await sim.settle();
    assert.equal(sim.node('a').log.lastSeq, 2, 'k2 waits outside the log');
    sim.network.resume(sim.url('b'));
    await sim.advance(10);
    assert.equal(transfer.state, 'fulfilled');
    assert.equal(inFlight.state, 'fulfilled', 'the write in flight committed before the handover');
    assert.equal((held.error as { code?: string }).code, 'NOT_LEADER');
    await sim.elect('b');
    assert.equal(await strongRead(sim.replica('b'), 'k1'), 'v1');
    assert.equal(await strongRead(sim.replica('b'), 'k2'), undefined);
  });

  it('picks the most caught-up in-sync follower when no target is named', async () => {
    const sim = await SimCluster.started();
    sim.network.pause(sim.url('b'));
    const late = track(put(sim.replica('a'), 'k', 'v'));
    await sim.advance(1000); // b is removed from the in-sync set
    assert.equal(late.state, 'fulfilled');
    const transfer = track(sim.replica('a').transferLeadership(undefined, 10_000));
    await sim.advance(10);
    assert.equal(transfer.value?.to, 'c');
  });

  it('waits for a target that is behind, then hands over once it has caught up', async () => {
    const sim = await SimCluster.started();
    sim.network.pause(sim.url('c'));
    const write = track(put(sim.replica('a'), 'k1', 'v1'));
    await sim.advance(1000);
    assert.equal(write.state, 'fulfilled');
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b'], 'c fell out of the in-sync set');
    const transfer = track(sim.replica('a').transferLeadership('c', 10_000));
    await sim.advance(1000);
    assert.equal(transfer.state, 'pending', 'c has not caught up');
    assert.equal(await strongRead(sim.replica('a'), 'k1'), 'v1', 'the leader serves while it waits');
    sim.network.resume(sim.url('c'));
    await sim.advance(1000);
    assert.equal(transfer.value?.to, 'c');
    await sim.elect('c');
    assert.equal(await strongRead(sim.replica('c'), 'k1'), 'v1');
  });

  it('times out when the target never catches up; the old leader goes on leading and the held writes go through', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { writeTimeoutMs: 1000, replicaTimeoutMs: 300 });
    await put(sim.replica('a'), 'k0', 'v0');
    sim.network.pause(sim.url('b'));
    const unconfirmed = track(put(sim.replica('a'), 'k1', 'v1'));
    // The target holds every committed entry but answers nothing more: the drain waits on it.
    const transfer = track(sim.replica('a').transferLeadership('b', 2000));
    await sim.settle();
    const held = track(put(sim.replica('a'), 'k2', 'v2'));
    await sim.advance(3000);
    assert.equal(transfer.state, 'rejected');
    assert.equal((transfer.error as { code?: string }).code, 'TIMEOUT');
    assert.match(String(transfer.error), /did not catch up.*a goes on leading/);
    assert.equal(sim.replica('a').role, 'leader');
    assert.equal(sim.coordination.state.leader, 'a');
    assert.equal(sim.coordination.state.transferTo, undefined);
    assert.equal(unconfirmed.state, 'fulfilled', 'committed once b was removed from the in-sync set');
    assert.equal(held.state, 'fulfilled', String(held.error));
    assert.equal(await strongRead(sim.replica('a'), 'k2'), 'v2');
  });

  it('loses no acknowledged write when the old leader crashes mid-transfer', async () => {
    const sim = await SimCluster.started();
    await put(sim.replica('a'), 'k0', 'v0');
    sim.network.pause(sim.url('b'));
    const transfer = track(sim.replica('a').transferLeadership('b', 10_000));
    const unacknowledged = track(put(sim.replica('a'), 'k1', 'v1'));
    await sim.advance(10);
    sim.kill('a');
    sim.network.resume(sim.url('b'));
    await sim.advance(10);
    assert.equal(transfer.state, 'rejected');
    assert.notEqual(unacknowledged.state, 'fulfilled');
    await sim.elect('c');
    assert.equal(await strongRead(sim.replica('c'), 'k0'), 'v0');
  });

  it('fails the transfer when the target crashes mid-transfer, and goes on leading', async () => {
    const sim = await SimCluster.started();
    await put(sim.replica('a'), 'k0', 'v0');
    sim.network.pause(sim.url('b'));
    const transfer = track(sim.replica('a').transferLeadership('b', 10_000));
    const held = track(put(sim.replica('a'), 'k1', 'v1'));
    await sim.advance(10);
    sim.kill('b');
    await sim.advance(2000);
    assert.equal(transfer.state, 'rejected');
    assert.equal(sim.replica('a').role, 'leader');
    assert.equal(held.state, 'fulfilled', String(held.error));
    await put(sim.replica('a'), 'k2', 'v2');
    assert.deepEqual(sim.coordination.state.isr, ['a', 'c']);
  });

  it('lets another replica win when the target dies after the handover', async () => {
    const sim = await SimCluster.started();
    await put(sim.replica('a'), 'k0', 'v0');
    const transfer = track(sim.replica('a').transferLeadership('b', 10_000));
    await sim.advance(10);
    assert.equal(transfer.state, 'fulfilled');
    sim.kill('b');
    await sim.elect('c');
    assert.equal(await strongRead(sim.replica('c'), 'k0'), 'v0');
  });

  it('refuses a transfer to itself, to an unknown replica, or without a follower in sync', async () => {
    const sim = await SimCluster.started();
    await assert.rejects(sim.replica('a').transferLeadership('a', 1000), { code: 'CONFLICT' });
    await assert.rejects(sim.replica('a').transferLeadership('zz', 1000), { code: 'NOT_FOUND' });
    await assert.rejects(sim.replica('b').transferLeadership('c', 1000), { code: 'NOT_LEADER' });
    const alone = await SimCluster.started(['a']);
    await assert.rejects(alone.replica('a').transferLeadership(undefined, 1000), { code: 'CONFLICT' });
  });
});

describe('remove-member', () => {
  it('takes a follower out of the in-sync set and keeps it out, unelectable, until it is restored', async () => {
    const sim = await SimCluster.started();
    assert.deepEqual(await sim.replica('a').removeMember('c'), ['a', 'b']);
    assert.deepEqual(sim.coordination.state.excluded, ['c']);
    sim.network.pause(sim.url('c'));
    await put(sim.replica('a'), 'k', 'v1');
    sim.network.resume(sim.url('c'));
    await put(sim.replica('a'), 'k', 'v2');
    await sim.advance(1000);
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b'], 'caught up, but not added back');
    await assert.rejects(sim.replica('a').transferLeadership('c', 1000), { code: 'CONFLICT' });
    sim.kill('a');
    await assert.rejects(sim.elect('c'), /may not lead/);
    await sim.elect('b');
    assert.deepEqual(sim.coordination.state.excluded, ['c'], 'the new leader keeps it out');
    sim.coordination.restore('c');
    await sim.advance(100);
    assert.deepEqual(sim.coordination.state.isr, ['b', 'c'], 'restored: added back once caught up');
    assert.equal(sim.coordination.state.excluded, undefined);
  });

  it('refuses to remove the leader, an unknown replica, or one whose removal would go below --min-insync', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { minInsync: 3 });
    await assert.rejects(sim.replica('a').removeMember('a'), /is the leader: move the lead first/);
    await assert.rejects(sim.replica('a').removeMember('zz'), { code: 'NOT_FOUND' });
    await assert.rejects(sim.replica('a').removeMember('b'), (error: { code?: string; message: string }) => {
      assert.equal(error.code, 'CONFLICT');
      assert.match(error.message, /would leave 2 replica\(s\) in sync, below --min-insync 3/);
      return true;
    });
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b', 'c'], 'nothing changed');
  });
});
