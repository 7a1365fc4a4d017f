import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimCluster, bytes, track } from './support/sim-cluster';

/**
 * A healthy leader must go on leading (and acknowledging writes) whatever a
 * follower does: die mid-way through joining the in-sync set, shut down, or
 * spend a while installing a snapshot.
 */
describe('leader liveness', () => {
  it('drops a follower that leaves while its addition to the in-sync set is being stored', async () => {
    const sim = new SimCluster(['a', 'b']);
    sim.coordination.block();
    await sim.elect('a'); // a leads alone; b catches up and a asks ZooKeeper to add it
    sim.kill('b');
    sim.coordination.unblock();
    await sim.settle();
    const write = track(sim.replica('a').put('k', bytes('v'), undefined, {}));
    await sim.advance(1000);
    assert.equal(write.state, 'fulfilled', `the write ${write.state}: ${String(write.error)}`);
    assert.deepEqual(sim.coordination.state.isr, ['a']);
  });

  it('is not deposed by a follower that has stopped (shutting down) but still answers', async () => {
    const sim = await SimCluster.started();
    sim.replica('c').stop();
    const write = track(sim.replica('a').put('k', bytes('v'), undefined, {}));
    await sim.advance(1000);
    assert.equal(sim.replica('a').role, 'leader', 'c is at epoch 1 like a: it knows of no newer leader');
    assert.equal(write.state, 'fulfilled', `the write ${write.state}: ${String(write.error)}`);
  });

  it('is not deposed by a follower still installing a snapshot from the previous leader', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { maxLogEntries: 4 });
    for (let index = 0; index < 20; index++) await sim.replica('a').put(`k${index}`, bytes(`v${index}`), undefined, {});
    let frozen = false;
    sim.network.onCall((call) => {
      // a stops dead just as c asks it for the snapshot, so c stays busy installing
      if (call.kind === 'fetchSnapshot' && !frozen) {
        frozen = true;
        sim.freeze('a');
      }
    });
    sim.restartFresh('c');
    await sim.settle();
    assert.equal(frozen, true);
    await sim.elect('b');
    assert.equal(sim.replica('b').role, 'leader', 'b was deposed by c answering stale-epoch at b’s own epoch');
    await sim.advance(31_000); // c's fetch from a times out; it then takes b's snapshot
    assert.equal(sim.node('c').store.get('k19')?.value.toString(), 'v19');
  });
});
