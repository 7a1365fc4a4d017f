import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SLOT_COUNT, type ClusterView, type PartitionView } from '@kvstore/protocol';
import { PartitionHistory } from '../src/ui/partition-history';
import { buildUiView, slotRuns } from '../src/ui/ui-view';
import { snapshotOf } from './fixtures';

function partition(name: string, leader: string | null, isr: string[], members: { id: string; lastSeq: number | null }[]): PartitionView {
  return {
    name,
    epoch: 3,
    leader,
    isr,
    members: members.map(({ id, lastSeq }) => ({ id, url: `http://${id}`, role: id === leader ? 'leader' : 'follower', lastSeq, lag: lastSeq === null ? null : 0 })),
  };
}

const noTraffic = () => ({ opsPerSecond: 0, p99Ms: null, history: [] });

function viewOf(partitions: PartitionView[], mostMembers = 0) {
  const cluster: ClusterView = { cluster: 'c', ring: { version: 2, partitions: partitions.map((p) => p.name), slots: { p0: 2000, p1: 2096 } }, partitions };
  return buildUiView(cluster, {
    ring: { version: 2, partitions: partitions.map((p) => p.name) },
    history: { leaderChangedAt: () => 1234, mostMembers: () => mostMembers },
    traffic: noTraffic,
    builtAt: 99,
  });
}

const three = (lastSeq: number | null = 5) => [{ id: 'a', lastSeq: 5 }, { id: 'b', lastSeq }, { id: 'c', lastSeq: 5 }];

describe('buildUiView: health', () => {
  it('is ok with a leader and every live replica in sync and answering', () => {
    const [p0] = viewOf([partition('p0', 'a', ['a', 'b', 'c'], three())], 3).partitions;
    assert.equal(p0!.health, 'ok');
    assert.deepEqual(p0!.issues, []);
    assert.deepEqual(p0!.members.map((m) => m.inSync), [true, true, true]);
    assert.equal(p0!.leaderChangedAt, 1234);
    assert.equal(p0!.slots, 2000);
  });

  it('is down without a leader', () => {
    assert.equal(viewOf([partition('p0', null, ['a', 'b'], three())]).partitions[0]!.health, 'down');
  });

  it('is degraded when a replica is out of sync, silent, in sync but gone, or fewer than ever seen are live', () => {
    const cases: [PartitionView, number, RegExp][] = [
      [partition('p0', 'a', ['a', 'c'], three()), 3, /b out of sync/],
      [partition('p0', 'a', ['a', 'b', 'c'], three(null)), 3, /b does not answer/],
      [partition('p0', 'a', ['a', 'b', 'c'], [{ id: 'a', lastSeq: 5 }, { id: 'c', lastSeq: 5 }]), 3, /b in sync but not live/],
      [partition('p0', 'a', ['a', 'c'], [{ id: 'a', lastSeq: 5 }, { id: 'c', lastSeq: 5 }]), 3, /2 of 3 replicas live/],
    ];
    for (const [view, most, issue] of cases) {
      const [p0] = viewOf([view], most).partitions;
      assert.equal(p0!.health, 'degraded');
      assert.match(p0!.issues.join('; '), issue);
    }
  });
});

describe('buildUiView: the slot map', () => {
  it('encodes the slot table as runs that cover every slot', () => {
    const view = viewOf([partition('p0', 'a', ['a'], [{ id: 'a', lastSeq: 1 }]), partition('p1', 'b', ['b'], [{ id: 'b', lastSeq: 1 }])]);
    const { runs, partitions } = view.ring;
    assert.deepEqual(partitions, ['p0', 'p1']);
    assert.equal(runs[0]![0], 0);
    for (let index = 1; index < runs.length; index++) {
      assert.ok(runs[index]![0] > runs[index - 1]![0]);
      assert.notEqual(runs[index]![1], runs[index - 1]![1], 'neighbouring runs have different owners');
    }
    assert.ok(runs.every(([slot]) => slot < SLOT_COUNT));
  });

  it('slotRuns merges neighbouring slots of one owner', () => {
    assert.deepEqual(slotRuns(['x', 'x', 'y', 'y', 'y', 'x'], ['x', 'y']), [[0, 0], [2, 1], [5, 0]]);
  });
});

describe('PartitionHistory', () => {
  it('knows when the leader changed since it started, and the most replicas seen', () => {
    const clock = { now: 100 };
    const history = new PartitionHistory(() => clock.now);
    history.observe(snapshotOf({ p0: { members: ['a', 'b', 'c'], leader: 'a', epoch: 1 } }));
    assert.equal(history.leaderChangedAt('p0'), null, 'the leader found at start has no known change time');
    clock.now = 200;
    history.observe(snapshotOf({ p0: { members: ['b', 'c'], epoch: 1 } }));
    assert.equal(history.leaderChangedAt('p0'), 200);
    clock.now = 300;
    history.observe(snapshotOf({ p0: { members: ['b', 'c'], leader: 'b', epoch: 2 } }));
    assert.equal(history.leaderChangedAt('p0'), 300);
    clock.now = 400;
    history.observe(snapshotOf({ p0: { members: ['b', 'c'], leader: 'b', epoch: 2 } }));
    assert.equal(history.leaderChangedAt('p0'), 300, 'an unrelated change keeps the time');
    assert.equal(history.mostMembers('p0'), 3);
    history.observe(snapshotOf({}));
    assert.equal(history.mostMembers('p0'), 0, 'a partition gone from the records is forgotten');
  });
});
