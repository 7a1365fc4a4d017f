import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { encodeRecord } from '@kvstore/protocol';
import { Replica, type ReplicaDeps } from '../src/replication/replica';
import { PARTITION, PATHS, ZkPartition, waitFor } from './support/zk-partition';

let partition: ZkPartition | undefined;

function newPartition(sessionTimeoutMs?: number): ZkPartition {
  partition = new ZkPartition(sessionTimeoutMs);
  return partition;
}

afterEach(async () => {
  await partition?.stop();
  partition = undefined;
});

const statePath = PATHS.state(PARTITION);
const leaderPath = PATHS.leader(PARTITION);

describe('PartitionCoordinator: elections', () => {
  it('elects one leader, writing its epoch, its incarnation and its leader node together', async () => {
    const p = newPartition();
    await p.start(['a', 'b', 'c']);
    const leader = await waitFor(() => p.settledLeader(), 'one leader');
    const state = p.state();
    assert.equal(state.epoch, 1, 'the first epoch: no campaign raised it twice');
    assert.deepEqual(state.incarnations?.[leader], p.memberNodes(leader)[0]);
  });

  it('a leader whose /state is bumped to a higher epoch by hand gives up its leader node, and one leader is elected again', async () => {
    const p = newPartition();
    await p.start(['a', 'b', 'c']);
    const first = await waitFor(() => p.settledLeader(), 'one leader');
    const bumped = { ...p.state(), epoch: p.state().epoch + 5 };
    p.zk.write(statePath, encodeRecord(bumped));
    await waitFor(() => p.settledLeader() !== undefined && p.state().epoch > bumped.epoch, 'a leader above the bumped epoch');
    assert.equal(p.settledLeader(), first, 'the recorded leader, still live, takes its place back');
  });

  it('a leader whose /leader node is deleted by hand steps down and one leader is elected again', async () => {
    const p = newPartition();
    await p.start(['a', 'b', 'c']);
    await waitFor(() => p.settledLeader(), 'one leader');
    const epoch = p.state().epoch;
    p.zk.delete(leaderPath);
    await waitFor(() => p.settledLeader() !== undefined && p.state().epoch > epoch, 'a leader of a new epoch');
  });

  it('a planned transfer hands the lead to its target alone, through /state and the leader node in one write', async () => {
    const p = newPartition();
    await p.start(['a', 'b', 'c']);
    const first = await waitFor(() => p.settledLeader(), 'one leader');
    await waitFor(() => p.state().isr.length === 3, 'every replica in sync');
    const target = ['a', 'b', 'c'].filter((id) => id !== first).sort().at(-1)!;
    const epoch = p.state().epoch;
    assert.deepEqual(await p.node(first).replica.transferLeadership(target, 5000), { from: first, to: target, epoch });
    await waitFor(() => p.settledLeader() === target, `${target} to lead`);
    assert.equal(p.state().epoch, epoch + 1, 'one campaign: nobody else tried');
    assert.equal(p.state().transferTo, undefined);
  });

  it('a leader deposed by a newer epoch deletes its own leader node', async () => {
    const p = newPartition();
    await p.start(['a', 'b', 'c']);
    const first = await waitFor(() => p.settledLeader(), 'one leader');
    const other = ['a', 'b', 'c'].find((id) => id !== first)!;
    await waitFor(() => p.state().isr.includes(other), `${other} in sync`);
    // Another replica's term recorded by hand, as if it had won while the leader was cut off.
    p.zk.write(statePath, encodeRecord({ ...p.state(), epoch: p.state().epoch + 1, leader: other }));
    await waitFor(() => p.settledLeader() === other, `${other} to lead with its own leader node`);
  });

  it('a replica that wins the election but cannot take the lead steps aside once, without raising the epoch in a loop', async () => {
    const p = newPartition(300);
    let attempts = 0;
    class FailingReplica extends Replica {
      override becomeLeader(): void {
        attempts++;
        throw new Error('cannot lead');
      }
    }
    await p.start(['a'], { makeReplica: (deps: ReplicaDeps) => new FailingReplica(deps) });
    await waitFor(() => attempts === 1 && p.state().leader === null && !p.leaderNode(), 'a stepped aside');
    const epoch = p.state().epoch;
    await new Promise((resolve) => setTimeout(resolve, 150)); // half the hold-off: no campaign may happen in it
    assert.equal(attempts, 1);
    assert.equal(p.state().epoch, epoch);
    await waitFor(() => attempts === 2, 'one more attempt after the hold-off');
    assert.ok(p.state().epoch <= epoch + 1);
  });

  it('a replica whose member node is gone cannot win an election', async () => {
    const p = newPartition();
    await p.start(['a', 'b']);
    const leader = await waitFor(() => p.settledLeader(), 'one leader');
    const other = leader === 'a' ? 'b' : 'a';
    let otherLed = false;
    p.node(other).replica.becomeLeader = () => {
      otherLed = true;
    };
    p.zk.delete(`${PATHS.members(PARTITION)}/${p.memberNodes(other)[0]}`);
    p.session(leader).expire(); // the leader's nodes go; it rejoins under a new session and leads again
    await waitFor(() => p.settledLeader() === leader && p.state().epoch > 1, `${leader} to lead again`);
    assert.equal(otherLed, false, `${other} won without a member node`);
  });

  it('a leader whose session hangs and then expires rejoins on a new session and leads again', async () => {
    const p = newPartition();
    await p.start(['a', 'b']);
    const leader = await waitFor(() => p.settledLeader(), 'one leader');
    const epoch = p.state().epoch;
    p.session(leader).hang();
    p.session(leader).expire();
    await waitFor(() => p.settledLeader() !== undefined && p.state().epoch > epoch, 'a leader of a new epoch');
    await waitFor(() => p.memberNodes(leader).length === 1 && p.node(leader).coordinator.notReadyBecause() === undefined, `${leader} back as a member`);
  });

  it('tells the replica when its ZooKeeper connection goes and comes back, and when the session expires', async () => {
    const p = newPartition();
    const seen: boolean[] = [];
    class ObservedReplica extends Replica {
      override observeZooKeeper(connected: boolean): void {
        seen.push(connected);
        super.observeZooKeeper(connected);
      }
    }
    await p.start(['a'], { makeReplica: (deps: ReplicaDeps) => new ObservedReplica(deps) });
    await waitFor(() => p.settledLeader(), 'a leads');
    assert.deepEqual(seen, [true]);
    p.session('a').disconnect();
    assert.deepEqual(seen, [true, false]);
    assert.equal(p.node('a').coordinator.notReadyBecause(), 'not connected to ZooKeeper');
    p.session('a').reconnect();
    assert.deepEqual(seen, [true, false, true]);
    p.session('a').expire();
    await waitFor(() => p.node('a').sessions.length === 2 && p.settledLeader(), 'a leads on a new session');
    assert.deepEqual(seen, [true, false, true, false, true]);
  });
});

describe('PartitionCoordinator: malformed records', () => {
  it('keeps the last good /state, reports it by path, reads it once per change, and recovers when it is fixed', async () => {
    const p = newPartition();
    await p.start(['a', 'b', 'c']);
    const leader = await waitFor(() => p.settledLeader(), 'one leader');
    await waitFor(() => p.state().isr.length === 3, 'all in sync'); // no in-sync set change reads /state any more
    const good = p.zk.get(statePath)!.data;
    const reads = p.zk.readCount(statePath);
    p.zk.write(statePath, 'garbage');
    const coordinators = [...p.nodes.values()].map((node) => node.coordinator);
    await waitFor(() => coordinators.every((c) => c.notReadyBecause()?.startsWith(`malformed record at ${statePath}: malformed state record: not JSON`)), 'every replica to report /state');
    await new Promise((resolve) => setTimeout(resolve, 500)); // a retry loop would show in the read count
    // One read per replica for the one change, and at most one more: an in-sync set change the leader had
    // under way when the garbage came (an add whose record it overtook) reads /state once and then waits.
    const extra = p.zk.readCount(statePath) - (reads + 3);
    assert.ok(extra === 0 || extra === 1, `${extra} reads of /state more than one per replica`);
    assert.deepEqual(p.leaders(), [leader], 'the leader carries on');

    p.zk.write(statePath, good);
    await waitFor(() => coordinators.every((c) => c.notReadyBecause() === undefined), 'readiness back');
    assert.equal(p.settledLeader(), leader);
  });

  it('holds an in-sync set change while /state is malformed, reading it once, and makes it once the record is fixed', async () => {
    const p = newPartition();
    await p.start(['a', 'b', 'c']);
    const leader = await waitFor(() => p.settledLeader(), 'one leader');
    await waitFor(() => p.state().isr.length === 3, 'all in sync');
    const { epoch } = p.state();
    const good = p.zk.get(statePath)!.data;
    const follower = ['a', 'b', 'c'].find((id) => id !== leader)!;
    const coordinator = p.node(leader).coordinator;
    p.zk.write(statePath, 'garbage');
    await waitFor(() => coordinator.notReadyBecause()?.startsWith(`malformed record at ${statePath}`), 'the leader to see the garbage');
    const reads = p.zk.readCount(statePath);
    let settled = false;
    const change = coordinator.updateIsr(epoch, { exclude: follower }).finally(() => (settled = true));
    await waitFor(() => p.zk.readCount(statePath) === reads + 1, 'the change to read /state');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the change waits for the record to be fixed instead of failing (and being retried at once)');
    assert.equal(p.zk.readCount(statePath), reads + 1);
    p.zk.write(statePath, good);
    assert.deepEqual(await change, ['a', 'b', 'c'].filter((id) => id !== follower));
    assert.deepEqual(p.state().excluded, [follower]);
  });

  it('keeps a member whose node turns malformed, and reports the node', async () => {
    const p = newPartition();
    await p.start(['a', 'b', 'c']);
    const leader = await waitFor(() => p.settledLeader(), 'one leader');
    await waitFor(() => p.state().isr.length === 3, 'all in sync');
    const follower = ['a', 'b', 'c'].find((id) => id !== leader)!;
    const memberPath = `${PATHS.members(PARTITION)}/${p.memberNodes(follower)[0]}`;
    p.zk.write(memberPath, '{"id":""}');
    const coordinator = p.node(leader).coordinator;
    await waitFor(() => coordinator.problems().some((problem) => problem.path === memberPath), 'the leader to report the member node');
    assert.equal(p.state().isr.length, 3, 'the follower is still a member and in sync');
  });

  it('waits out a malformed /ring on start instead of failing, and joins once it is fixed', async () => {
    const p = newPartition();
    p.zk.write(PATHS.ring, '{"version":"one"}');
    const node = p.add('a');
    let started = false;
    const starting = node.coordinator.start().then(() => (started = true));
    await waitFor(() => node.coordinator.notReadyBecause()?.includes(PATHS.ring), 'readiness to name /ring');
    assert.equal(started, false);
    p.zk.write(PATHS.ring, encodeRecord({ version: 1, partitions: [] }));
    await starting;
    await waitFor(() => p.settledLeader() === 'a', 'a leads');
    assert.equal(node.coordinator.notReadyBecause(), undefined);
  });

  it('a memory replica waits out a malformed /state before it resigns and joins', async () => {
    const p = newPartition();
    await p.start(['a']);
    await waitFor(() => p.settledLeader(), 'a leads');
    const good = p.zk.get(statePath)!.data;
    p.zk.write(statePath, '[]');
    const node = p.add('b', { holdsData: false });
    let started = false;
    const starting = node.coordinator.start().then(() => (started = true));
    await waitFor(() => node.coordinator.notReadyBecause()?.includes(statePath), 'readiness to name /state');
    assert.equal(started, false);
    assert.deepEqual(p.memberNodes('b'), [], 'not registered before it resigned');
    p.zk.write(statePath, good);
    await starting;
    assert.equal(p.memberNodes('b').length, 1);
  });
});
