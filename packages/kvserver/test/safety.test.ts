import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError } from '@kvstore/protocol';
import { MemoryLog } from '../src/replication/log';
import type { SnapshotStream } from '../src/replication/messages';
import { Replica } from '../src/replication/replica';
import { DEFAULT_REPLICATION_OPTIONS, silentLogger } from '../src/replication/types';
import type { SnapshotRecord } from '../src/replication/kv-store';
import { MemoryStore } from '../src/store/memory-store';
import { NO_SLOTS } from '../src/store/slot-state';
import { ManualClock } from '../src/testing/manual-clock';
import { MemoryCoordination } from '../src/testing/memory-coordination';
import { SimCluster, bytes, track } from './support/sim-cluster';

/**
 * The narrow windows a reviewer found around a change of leader, each
 * replayed on the simulator: every scenario here answered wrongly before
 * its fix.
 */

const code = (error: unknown): string | undefined => (error instanceof KvError ? error.code : undefined);
const text = (value: { value: Buffer } | undefined): string | undefined => value?.value.toString();

/** A write acknowledged by the leader, which dies the moment it answers: its followers have the entry, not the commit point. */
async function acknowledgeThenKill(sim: SimCluster, leader: string, write: Promise<{ version: number }>): Promise<number> {
  const acknowledged = write.then((result) => {
    sim.kill(leader);
    return result.version;
  });
  await sim.advance(0);
  return acknowledged;
}

describe('a new leader decides nothing before it has applied its predecessors’ writes', () => {
  it('refuses a second If-None-Match: * on a lock acknowledged just before the failover', async () => {
    const sim = await SimCluster.started();
    const first = await acknowledgeThenKill(sim, 'a', sim.replica('a').put('lock', bytes('client-1'), undefined, { ifNoneMatch: true }));
    assert.equal(sim.node('b').store.get('lock'), undefined, 'the follower has not applied the lock yet: the window is open');
    const elected = sim.elect('b');
    const second = track(sim.replica('b').put('lock', bytes('client-2'), undefined, { ifNoneMatch: true }));
    await elected;
    await sim.advance(100);
    assert.equal(second.state, 'rejected');
    assert.equal(code(second.error), 'PRECONDITION_FAILED');
    assert.equal(text(await sim.replica('b').read('lock', 'strong')), 'client-1');
    assert.equal((await sim.replica('b').read('lock', 'strong'))?.version, first);
  });

  it('checks If-Match against the version acknowledged last, and answers DELETE’s deleted flag by it', async () => {
    const sim = await SimCluster.started();
    const v2 = (await sim.replica('a').put('k', bytes('one'), undefined, {})).version;
    await sim.advance(0);
    const v3 = await acknowledgeThenKill(sim, 'a', sim.replica('a').put('k', bytes('two'), undefined, { ifMatch: v2 }));
    const elected = sim.elect('b');
    const stale = track(sim.replica('b').put('k', bytes('stale'), undefined, { ifMatch: v2 }));
    await elected;
    await sim.advance(100);
    assert.equal(code(stale.error), 'PRECONDITION_FAILED', 'the version before the acknowledged one no longer matches');
    const fresh = await sim.replica('b').put('k', bytes('three'), undefined, { ifMatch: v3 });
    assert.ok(fresh.version > v3);

    const sim2 = await SimCluster.started();
    await acknowledgeThenKill(sim2, 'a', sim2.replica('a').put('gone', bytes('x'), undefined, {}));
    const elected2 = sim2.elect('b');
    const deleted = track(sim2.replica('b').delete('gone', {}));
    await elected2;
    await sim2.advance(100);
    assert.deepEqual(deleted.value && { deleted: deleted.value.deleted }, { deleted: true });
  });
});

describe('strong reads are linearizable in async mode too', () => {
  it('refuses a strong read on a frozen old leader that thaws after a new leader acknowledged a newer value', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { mode: 'async' });
    await sim.replica('a').put('k', bytes('v1'), undefined, {});
    await sim.advance(10);
    sim.freeze('a');
    await sim.elect('b');
    await sim.replica('b').put('k', bytes('v2'), undefined, {});
    sim.thaw('a');
    const read = track(sim.replica('a').read('k', 'strong'));
    await sim.advance(2000);
    assert.equal(read.state, 'rejected', `the old leader answered ${text(read.value as { value: Buffer } | undefined)}`);
    assert.ok(['NOT_LEADER', 'UNAVAILABLE'].includes(code(read.error) ?? ''));
  });

  it('answers a strong read in async mode only with what every in-sync follower holds', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { mode: 'async' });
    sim.network.pause(sim.url('c'));
    await sim.replica('a').put('k', bytes('v1'), undefined, {});
    const read = track(sim.replica('a').read('k', 'strong'));
    await sim.advance(100);
    assert.equal(read.state, 'pending', 'c, still in sync, lacks v1: a failover to c could take it back');
    sim.network.resume(sim.url('c'));
    await sim.advance(10);
    assert.equal(text(read.value as { value: Buffer } | undefined), 'v1');
  });
});

describe('async mode: a strong read never shows what a failover could take back', () => {
  it('does not answer with a write the followers do not hold yet, even once the leader has acknowledged it', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { mode: 'async' });
    await sim.replica('a').put('k', bytes('v1'), undefined, {});
    await sim.advance(10);
    // The read's confirmation round leaves first; a write is acknowledged (async) right behind it.
    const held = { b: 0, c: 0 };
    let write: Promise<{ version: number }> | undefined;
    sim.network.onCall((call) => {
      if (call.kind === 'append') write ??= sim.replica('a').put('k', bytes('v2'), undefined, {});
    });
    const read = sim.replica('a').read('k', 'strong').then((value) => {
      held.b = sim.node('b').log.lastSeq;
      held.c = sim.node('c').log.lastSeq;
      return value;
    });
    await sim.advance(100);
    const { version } = await write!;
    const value = await read;
    if (text(value) === 'v2') {
      assert.ok(held.b >= version && held.c >= version, `the read showed v2 while b held up to ${held.b} and c up to ${held.c} of ${version}`);
    }
  });
});

describe('TTL is judged by the leader’s clock, and expiry travels through the log', () => {
  it('expires a value on every replica at the same sequence number, whatever their clocks say', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], {}, { b: -60_000, c: 60_000 });
    await sim.replica('a').put('t', bytes('x'), 1, {});
    await sim.advance(10);
    assert.equal(text(sim.node('c').store.get('t')), 'x', 'c’s clock is a minute ahead, and keeps the value all the same');
    await sim.advance(2000);
    const expiry = [...Array(sim.node('a').log.lastSeq).keys()].map((index) => sim.node('a').log.entryAt(index + 1)?.op.type);
    assert.ok(expiry.includes('expire'), `an expire entry is in the leader's log: ${expiry.join(',')}`);
    await sim.advance(100);
    for (const id of ['a', 'b', 'c']) {
      assert.equal(sim.node(id).store.get('t'), undefined, `${id} holds no expired value`);
      assert.equal(sim.node(id).store.appliedSeq, sim.node('a').store.appliedSeq, `${id} applied as far as the leader`);
    }
  });

  it('does not resurrect a key after a failover to a replica whose clock is behind', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { expiryIntervalMs: 600_000 }, { b: -5000 });
    await sim.replica('a').put('t', bytes('x'), 1, {});
    await sim.advance(1500);
    assert.equal(await sim.replica('a').read('t', 'strong'), undefined, 'expired by the leader’s clock');
    sim.kill('a');
    await sim.elect('b');
    const read = track(sim.replica('b').read('t', 'strong'));
    await sim.advance(100);
    assert.equal(read.state, 'fulfilled');
    assert.equal(read.value, undefined, 'b’s clock says the TTL has 3.5 s left, but the key expired before');
  });

  it('treats a value past its expiry as absent for If-None-Match, and expires it through the log first', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { expiryIntervalMs: 600_000 }, { b: -5000 });
    await sim.replica('a').put('lock', bytes('old'), 1, {});
    await sim.advance(1500);
    const taken = await sim.replica('a').put('lock', bytes('new'), undefined, { ifNoneMatch: true });
    const before = sim.node('a').log.entryAt(taken.version - 1)?.op;
    assert.deepEqual(before && { type: before.type }, { type: 'expire' });
    assert.equal(text(await sim.replica('a').read('lock', 'strong')), 'new');
  });
});

describe('an expiry never hides a write that follows it in the log', () => {
  it('keeps a create that is pending when a strong read expires the value before it', async () => {
    let release: () => void = () => {};
    let held: Promise<void> | undefined;
    class HeldLog extends MemoryLog {
      override flush(): Promise<void> {
        return held ?? Promise.resolve();
      }
    }
    const clock = new ManualClock();
    const replica = new Replica({
      self: { id: 'a', url: 'http://a.sim:7000' },
      partition: 'p0',
      log: new HeldLog(),
      store: new MemoryStore(),
      clock,
      transport: { append: () => Promise.reject(new Error('unused')), installSnapshot: () => Promise.reject(new Error('unused')), fetchSnapshot: () => Promise.reject(new Error('unused')) },
      coordination: new MemoryCoordination().forReplica('a'),
      options: { ...DEFAULT_REPLICATION_OPTIONS, expiryIntervalMs: 600_000 },
      logger: silentLogger,
    });
    replica.becomeLeader(1, ['a']);
    await replica.put('lock', bytes('lease'), 1, {});
    clock.advance(1500);
    held = new Promise((resolve) => (release = resolve));
    // A create finds the lease expired: it expires it through the log, then appends itself; neither is committed yet.
    const create = replica.put('lock', bytes('first'), undefined, { ifNoneMatch: true });
    await new Promise((resolve) => setImmediate(resolve));
    // A strong read still sees the expired lease as the committed value.
    const read = replica.read('lock', 'strong');
    await new Promise((resolve) => setImmediate(resolve));
    const second = replica.put('lock', bytes('second'), undefined, { ifNoneMatch: true });
    held = undefined;
    release();
    await assert.rejects(second, (error) => code(error) === 'PRECONDITION_FAILED');
    assert.equal(text(await read), 'first');
    assert.ok((await create).version > 0);
    assert.equal(text(await replica.read('lock', 'strong')), 'first');
  });
});

describe('a replica keeps no in-sync place it has not earned', () => {
  it('drops a follower that restarted with less than it had from the in-sync set, until it has caught up again', async () => {
    const sim = await SimCluster.started();
    for (let i = 0; i < 5; i++) await sim.replica('a').put(`k${i}`, bytes(`v${i}`), undefined, {});
    await sim.advance(10);
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b', 'c']);
    const before = sim.coordination.state.incarnations?.c;
    sim.network.pause(sim.url('a'));
    sim.restartWithLostData('c');
    await sim.advance(0);
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b'], 'c’s new incarnation has not shown that it holds the data');
    sim.network.resume(sim.url('a'));
    await sim.advance(100);
    assert.deepEqual(sim.coordination.state.isr, ['a', 'b', 'c']);
    assert.notEqual(sim.coordination.state.incarnations?.c, before, 'the incarnation that caught up is the one recorded');
    assert.equal(text(sim.node('c').store.get('k4')), 'v4');
  });
});

describe('a leader cut off from ZooKeeper stops acknowledging before its session can expire', () => {
  it('refuses writes and strong reads once disconnected for longer than the lease, and serves again on reconnect', async () => {
    const sim = await SimCluster.started(['a'], { zooKeeperLeaseMs: 1000 });
    const leader = sim.replica('a');
    await leader.put('k', bytes('v1'), undefined, {});
    leader.observeZooKeeper(false);
    await sim.advance(500);
    assert.equal((await leader.put('k', bytes('v2'), undefined, {})).version, 3, 'within the lease');
    await sim.advance(600);
    await assert.rejects(leader.put('k', bytes('v3'), undefined, {}), (error) => code(error) === 'UNAVAILABLE');
    await assert.rejects(leader.read('k', 'strong'), (error) => code(error) === 'UNAVAILABLE');
    leader.observeZooKeeper(true);
    assert.equal(text(await leader.read('k', 'strong')), 'v2');
  });
});

describe('a forged epoch is never accepted', () => {
  it('refuses an append at an epoch ZooKeeper never showed, without raising its own epoch or losing its leader', async () => {
    const sim = await SimCluster.started();
    await sim.replica('a').put('k', bytes('real'), undefined, {});
    await sim.advance(10);
    const follower = sim.replica('b');
    const forged = await follower.handleAppend({
      epoch: 2 ** 52,
      leaderId: 'stranger',
      leaderUrl: 'http://stranger:1',
      prevSeq: follower.lastSeq,
      prevEpoch: 1,
      commitSeq: follower.lastSeq + 1,
      entries: [{ seq: follower.lastSeq + 1, epoch: 2 ** 52, op: { type: 'put', key: 'k', value: bytes('forged'), expiresAt: null } }],
    });
    assert.deepEqual(forged, { ok: false, reason: 'unknown-epoch', epoch: 1 });
    assert.equal(follower.epoch, 1);
    assert.equal(text(sim.node('b').store.get('k')), 'real');
    await sim.replica('a').put('k', bytes('after'), undefined, {});
    await sim.advance(10);
    assert.equal(sim.replica('a').isLeader, true);
    assert.equal(text(sim.node('b').store.get('k')), 'after');
  });
});

describe('the uncommitted backlog is bounded', () => {
  it('refuses new writes with 503 once too many wait uncommitted (a follower gone, ZooKeeper down)', async () => {
    const sim = await SimCluster.started(['a', 'b', 'c'], { maxUncommittedEntries: 5, writeTimeoutMs: 60_000 });
    sim.coordination.block();
    sim.network.cut(sim.url('c'));
    const pending = [];
    for (let i = 0; i < 5; i++) pending.push(track(sim.replica('a').put(`k${i}`, bytes('v'), undefined, {})));
    await sim.advance(10);
    await assert.rejects(sim.replica('a').put('one-more', bytes('v'), undefined, {}), (error) => code(error) === 'UNAVAILABLE');
    assert.equal(sim.node('a').log.lastSeq, 6, 'the refused write never reached the log');
    assert.ok(pending.every((write) => write.state === 'pending'));
  });
});

describe('a snapshot install is atomic to everyone else', () => {
  /** A follower whose log flushes (disk writes) wait until `releaseFlushes`, and whose leader's snapshot arrives on demand. */
  function follower() {
    let release: () => void = () => {};
    let held: Promise<void> | undefined;
    class HeldLog extends MemoryLog {
      override flush(): Promise<void> {
        return held ?? Promise.resolve();
      }
    }
    let deliver: (stream: SnapshotStream) => void = () => {};
    const snapshot = new Promise<SnapshotStream>((resolve) => (deliver = resolve));
    const clock = new ManualClock();
    const store = new MemoryStore();
    const replica = new Replica({
      self: { id: 'b', url: 'http://b.sim:7000' },
      partition: 'p0',
      log: new HeldLog(),
      store,
      clock,
      transport: { append: () => Promise.reject(new Error('unused')), installSnapshot: () => Promise.reject(new Error('unused')), fetchSnapshot: () => snapshot },
      coordination: new MemoryCoordination().forReplica('b'),
      options: DEFAULT_REPLICATION_OPTIONS,
      logger: silentLogger,
    });
    replica.becomeFollower(1, { id: 'a', url: 'http://a.sim:7000' });
    return {
      replica,
      store,
      holdFlushes: () => {
        held = new Promise((resolve) => (release = resolve));
      },
      releaseFlushes: () => {
        held = undefined;
        release();
      },
      sendSnapshot: (seq: number, records: SnapshotRecord[]) => deliver({ seq, epoch: 1, slots: NO_SLOTS, chunks: (async function* () { yield records; })() }),
    };
  }
  const leader = { epoch: 1, leaderId: 'a', leaderUrl: 'http://a.sim:7000' };
  const record = (key: string, value: string, version: number): SnapshotRecord => ({ key, value: bytes(value), version, expiresAt: null });

  it('serves no eventual read while it installs', async () => {
    const { replica, store, sendSnapshot } = follower();
    store.apply({ seq: 1, epoch: 1, op: { type: 'put', key: 'k', value: bytes('old'), expiresAt: null } });
    const install = replica.installSnapshot(leader);
    await assert.rejects(replica.read('k', 'eventual'), (error) => code(error) === 'UNAVAILABLE');
    sendSnapshot(10, [record('k', 'new', 9)]);
    assert.deepEqual(await install, { ok: true, epoch: 1, matchSeq: 10 });
    assert.equal(text(await replica.read('k', 'eventual')), 'new');
  });

  it('does not finish an append that waited on the disk while a snapshot replaced the log', async () => {
    const { replica, store, holdFlushes, releaseFlushes, sendSnapshot } = follower();
    holdFlushes();
    const append = replica.handleAppend({ ...leader, prevSeq: 0, prevEpoch: 0, commitSeq: 1, entries: [{ seq: 1, epoch: 1, op: { type: 'put', key: 'k', value: bytes('appended'), expiresAt: null } }] });
    const install = replica.installSnapshot(leader);
    sendSnapshot(10, [record('k', 'snapshot', 9)]);
    await new Promise((resolve) => setImmediate(resolve));
    releaseFlushes();
    assert.deepEqual(await append, { ok: false, reason: 'busy', epoch: 1 });
    assert.deepEqual(await install, { ok: true, epoch: 1, matchSeq: 10 });
    assert.equal(store.appliedSeq, 10);
    assert.equal(text(store.get('k')), 'snapshot');
  });
});
