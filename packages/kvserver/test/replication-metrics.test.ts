import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Replica } from '../src/replication/replica';
import { SimCluster, bytes, track } from './support/sim-cluster';
import { closeStorage, openStorage, putEntry, tempDataDir, warmUp } from './support/storage';

/** What the replication core reports for metrics (ReplicationObserver, Leadership.followerLag) and what the storage engine reports of its group commits. */

const put = (replica: Replica, key: string, value: string, ttlSeconds?: number) => replica.put(key, bytes(value), ttlSeconds, {});

describe('ReplicationObserver', () => {
  it('hears of every newer epoch, on the leader and on the followers', async () => {
    const sim = await SimCluster.started();
    await put(sim.replica('a'), 'k', 'v');
    sim.kill('a');
    await sim.elect('b');
    await put(sim.replica('b'), 'k', 'w');
    assert.deepEqual(sim.node('b').observed.epochs, [1, 2]);
    assert.deepEqual(sim.node('c').observed.epochs, [1, 2]);
    // An epoch seen again (from ZooKeeper, then from an append) is not a change.
    assert.equal(sim.replica('c').epoch, 2);
  });

  it('counts snapshots served and installed', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { maxLogEntries: 4 });
    for (let index = 0; index < 20; index++) await put(sim.replica('a'), `k${index}`, `v${index}`);
    sim.restartFresh('c');
    await sim.advance(100);
    assert.equal(sim.node('a').observed.snapshotsServed, 1);
    assert.equal(sim.node('c').observed.snapshotsInstalled, 1);
    assert.equal(sim.node('b').observed.snapshotsInstalled, 0);
  });

  it('reports each look for expired values and how many it expired, on the leader only', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { expiryIntervalMs: 1000 });
    await put(sim.replica('a'), 'short', 'x', 1);
    await put(sim.replica('a'), 'long', 'y', 60);
    await sim.advance(2500);
    const sweeps = sim.node('a').observed.expirySweeps;
    assert.equal(sweeps.length, 2, 'one look per interval');
    assert.equal(sweeps.reduce((sum, expired) => sum + expired, 0), 1, 'only the value whose TTL ran out');
    assert.deepEqual(sim.node('b').observed.expirySweeps, []);
  });
});

describe('Leadership.followerLag', () => {
  it('is zero for followers that hold the whole log, and grows in entries and time for one cut off', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { replicaTimeoutMs: 500, writeTimeoutMs: 1000 });
    await put(sim.replica('a'), 'k', 'v');
    const leadership = sim.replica('a').requireLeadership();
    assert.deepEqual(leadership.followerLag(), [
      { id: 'b', entries: 0, seconds: 0 },
      { id: 'c', entries: 0, seconds: 0 },
    ]);
    sim.network.cut(sim.url('c'));
    // c is required until the leader drops it (after --replica-timeout): the writes wait for that.
    const writes = [0, 1, 2].map((index) => track(put(sim.replica('a'), `k${index}`, 'v')));
    await sim.advance(2000);
    assert.deepEqual(writes.map((write) => write.state), ['fulfilled', 'fulfilled', 'fulfilled']);
    const [b, c] = leadership.followerLag();
    assert.deepEqual(b, { id: 'b', entries: 0, seconds: 0 });
    assert.equal(c!.entries, 3);
    assert.ok(c!.seconds >= 2, `c has lacked entries for ${c!.seconds} s`);
    sim.network.heal(sim.url('c'));
    await sim.advance(100);
    assert.deepEqual(leadership.followerLag()[1], { id: 'c', entries: 0, seconds: 0 });
  });
});

describe('LmdbEngine.onDurableBatch', () => {
  it('reports one group per transaction with the writes it made durable', async () => {
    const opened = await openStorage(tempDataDir('durable-batch'));
    try {
      await warmUp(opened.engine);
      const groups: Array<{ writes: number; seconds: number }> = [];
      opened.engine.onDurableBatch((writes, seconds) => groups.push({ writes, seconds }));
      for (let seq = opened.log.lastSeq + 1, end = seq + 10; seq < end; seq++) opened.log.append([putEntry(seq, 1, `k${seq}`, 'v')]);
      await opened.log.flush();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(groups.length, 1);
      assert.equal(groups[0]!.writes, 10);
      assert.ok(groups[0]!.seconds >= 0 && groups[0]!.seconds < 60);
    } finally {
      await closeStorage(opened);
    }
  });

  it('reports writes of several turns that became durable together as one group', async () => {
    const opened = await openStorage(tempDataDir('durable-batch'));
    try {
      await warmUp(opened.engine);
      const groups: number[] = [];
      opened.engine.onDurableBatch((writes) => groups.push(writes));
      // Three turns of the engine's bookkeeping (a microtask apart), one LMDB transaction.
      for (let turn = 0; turn < 3; turn++) {
        const seq = opened.log.lastSeq + 1;
        opened.log.append([putEntry(seq, 1, `k${seq}`, 'v')]);
        await Promise.resolve();
      }
      await opened.log.flush();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(groups.reduce((sum, writes) => sum + writes, 0), 3);
    } finally {
      await closeStorage(opened);
    }
  });
});
