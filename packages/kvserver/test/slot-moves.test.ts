import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError } from '@kvstore/protocol';
import type { SnapshotRecord } from '../src/replication/kv-store';
import type { Leadership } from '../src/replication/leadership';
import { SimCluster, bytes, track } from './support/sim-cluster';
import { keysOfOneSlot } from './support/slot-keys';

/**
 * The moves of a slot (docs/resharding.md) on the simulator, with a crash
 * of the source's or the destination's leader at each step: the fence
 * survives the source's failover, the copy survives the destination's,
 * a copy started again gives the same state, versions never go back, and
 * an abort or a purge touches only what it should.
 */

const code = (error: unknown): string | undefined => (error instanceof KvError ? error.code : undefined);

function leadershipOf(sim: SimCluster, id: string): Leadership {
  const leadership = sim.replica(id).currentLeadership;
  assert.ok(leadership, `${id} leads`);
  return leadership;
}

/** The source's high-water version (what an import's versionFloor carries). */
function highWater(leadership: Leadership): number {
  return leadership.log.lastSeq + leadership.slots.versionOffset;
}

async function refused(sim: SimCluster, promise: Promise<unknown>): Promise<string | undefined> {
  const tracked = track(promise);
  await sim.advance(10);
  assert.equal(tracked.state, 'rejected');
  return code(tracked.error);
}

async function failOver(sim: SimCluster, from: string, to: string): Promise<void> {
  sim.kill(from);
  await sim.elect(to);
  await sim.advance(100);
}

describe('moving a slot', () => {
  const taken = new Set<number>();
  const moving = keysOfOneSlot('moving-', 3, taken);
  const staying = keysOfOneSlot('staying-', 1, taken);

  it('keeps refusing a fenced slot after the source leader that fenced it dies', async () => {
    const source = await SimCluster.started();
    await source.replica('a').put(moving.keys[0]!, bytes('before'), undefined, {});
    await leadershipOf(source, 'a').confirm({ type: 'fence', slots: [moving.slot] });
    await failOver(source, 'a', 'b');
    const b = source.replica('b');
    assert.equal(await refused(source, b.put(moving.keys[0]!, bytes('after'), undefined, {})), 'WRONG_PARTITION');
    assert.equal(await refused(source, b.delete(moving.keys[1]!, {})), 'WRONG_PARTITION');
    assert.equal(await refused(source, b.read(moving.keys[0]!, 'strong')), 'WRONG_PARTITION');
    assert.ok((await b.put(staying.keys[0]!, bytes('fine'), undefined, {})).version > 0, 'other slots are served');
  });

  it('refuses a strong read that was waiting on its barrier when the fence went in', async () => {
    const source = await SimCluster.started();
    await source.replica('a').put(moving.keys[0]!, bytes('v'), undefined, {});
    source.freeze('b');
    source.freeze('c');
    const read = track(source.replica('a').read(moving.keys[0]!, 'strong'));
    const fence = track(leadershipOf(source, 'a').confirm({ type: 'fence', slots: [moving.slot] }));
    source.thaw('b');
    source.thaw('c');
    await source.advance(100);
    assert.equal(fence.state, 'fulfilled');
    assert.equal(read.state, 'rejected');
    assert.equal(code(read.error), 'WRONG_PARTITION', 'answered after the fence: the destination may already take writes');
  });

  it('copies into the destination’s log: the data survives its failover with the versions it had, and later versions are higher', async () => {
    const source = await SimCluster.started();
    const a = source.replica('a');
    for (let round = 0; round < 20; round++) await a.put(staying.keys[0]!, bytes(`filler-${round}`), undefined, {});
    const kept = await a.put(moving.keys[0]!, bytes('kept'), undefined, {});
    await a.put(moving.keys[1]!, bytes('deleted'), undefined, {});
    const deleted = await a.delete(moving.keys[1]!, {});
    await a.put(moving.keys[2]!, bytes('expiring'), 60, {});
    const sourceLeader = leadershipOf(source, 'a');
    await sourceLeader.confirm({ type: 'fence', slots: [moving.slot] });
    const records = a.store.recordsInSlots([moving.slot]);
    assert.deepEqual(records.map((record) => record.key).sort(), [moving.keys[0], moving.keys[2]]);

    const destination = await SimCluster.started(['x', 'y', 'z']);
    await leadershipOf(destination, 'x').confirm({ type: 'import', slots: [moving.slot], clear: true, versionFloor: highWater(sourceLeader), records });
    await failOver(destination, 'x', 'y');
    const y = destination.replica('y');
    const copied = await y.read(moving.keys[0]!, 'strong');
    assert.equal(copied?.value.toString(), 'kept');
    assert.equal(copied?.version, kept.version, 'a moved key keeps its version');
    assert.equal((await y.read(moving.keys[2]!, 'strong'))?.expiresAt, records.find((record) => record.key === moving.keys[2])!.expiresAt, 'expiry is absolute');
    assert.equal(await y.read(moving.keys[1]!, 'strong'), undefined, 'a delete moves as absence');
    const next = await y.put(moving.keys[0]!, bytes('next'), undefined, { ifMatch: kept.version });
    assert.ok(next.version > kept.version, 'If-Match with the version read before the move works, and the version rises');
    const recreated = await y.put(moving.keys[1]!, bytes('again'), undefined, {});
    assert.ok(recreated.version > deleted.version, 'even a key deleted at the source comes back at a higher version');
  });

  it('gives the same state when a copy is started again after the destination leader died half-way', async () => {
    const source = await SimCluster.started();
    const a = source.replica('a');
    for (const [index, key] of moving.keys.entries()) await a.put(key, bytes(`v${index}`), undefined, {});
    const sourceLeader = leadershipOf(source, 'a');
    await sourceLeader.confirm({ type: 'fence', slots: [moving.slot] });
    const records = a.store.recordsInSlots([moving.slot]);
    const chunks: SnapshotRecord[][] = [records.slice(0, 1), records.slice(1)];

    const destination = await SimCluster.started(['x', 'y', 'z']);
    // Left over from an earlier time the slot lived here.
    await destination.replica('x').put(`${moving.keys[0]!}`, bytes('stale'), undefined, {});
    const floor = highWater(sourceLeader);
    await leadershipOf(destination, 'x').confirm({ type: 'import', slots: [moving.slot], clear: true, versionFloor: floor, records: chunks[0]! });
    await failOver(destination, 'x', 'y');
    for (const [index, chunk] of chunks.entries()) {
      await leadershipOf(destination, 'y').confirm({ type: 'import', slots: [moving.slot], clear: index === 0, versionFloor: floor, records: chunk });
    }
    const y = destination.replica('y');
    assert.equal(y.store.keysInSlot(moving.slot), moving.keys.length);
    for (const record of records) {
      const stored = await y.read(record.key, 'strong');
      assert.deepEqual([stored?.value.toString(), stored?.version], [record.value.toString(), record.version]);
    }
    await destination.advance(100);
    assert.equal(destination.replica('z').store.keysInSlot(moving.slot), moving.keys.length, 'the followers hold the copy too');
  });

  it('serves a slot again after an abort lifts its fence, with nothing lost', async () => {
    const source = await SimCluster.started();
    await source.replica('a').put(moving.keys[0]!, bytes('kept'), undefined, {});
    await leadershipOf(source, 'a').confirm({ type: 'fence', slots: [moving.slot] });
    await failOver(source, 'a', 'b');
    await leadershipOf(source, 'b').confirm({ type: 'unfence', slots: [moving.slot] });
    const b = source.replica('b');
    assert.equal((await b.read(moving.keys[0]!, 'strong'))?.value.toString(), 'kept');
    await b.put(moving.keys[0]!, bytes('written after the abort'), undefined, {});
  });

  it('purges on every replica only the keys of slots still fenced', async () => {
    const source = await SimCluster.started();
    const a = source.replica('a');
    for (const key of [...moving.keys, ...staying.keys]) await a.put(key, bytes(key), undefined, {});
    const leader = leadershipOf(source, 'a');
    await leader.confirm({ type: 'fence', slots: [moving.slot] });
    await leader.confirm({ type: 'purge', keys: [moving.keys[0]!, staying.keys[0]!] });
    await source.advance(100);
    for (const id of ['a', 'b', 'c']) {
      const store = source.replica(id).store;
      assert.equal(store.get(moving.keys[0]!), undefined, `${id} dropped the moved key`);
      assert.ok(store.get(staying.keys[0]!), `${id} kept the key of a slot that is not fenced`);
      assert.equal(store.keysInSlot(moving.slot), moving.keys.length - 1);
    }
  });
});
