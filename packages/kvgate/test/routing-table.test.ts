import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoutingTable } from '../src/routing/routing-table';
import { keys, snapshotOf, urlOf } from './fixtures';

const three = { p0: { members: ['a', 'b'], leader: 'a' }, p1: { members: ['c'], leader: 'c' }, p2: { members: ['d'], leader: 'd' } };

describe('RoutingTable', () => {
  it('routes 1000 keys identically from two tables built from the same records', () => {
    const first = new RoutingTable(snapshotOf(three));
    const second = new RoutingTable(snapshotOf(three, { partitions: ['p2', 'p0', 'p1'] }));
    for (const key of keys(1000)) assert.deepEqual(first.route(key), second.route(key));
  });

  it('spreads keys over every partition', () => {
    const table = new RoutingTable(snapshotOf(three));
    const counts = new Map<string, number>();
    for (const key of keys(1000)) {
      const partition = table.route(key)?.partition ?? 'none';
      counts.set(partition, (counts.get(partition) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), ['p0', 'p1', 'p2']);
    for (const count of counts.values()) assert.ok(count > 200, `uneven spread: ${[...counts.entries()].join(' ')}`);
  });

  it('moves about 1/N of the keys, all to the new partition, when a partition is added', () => {
    const before = new RoutingTable(snapshotOf(three));
    const after = new RoutingTable(snapshotOf({ ...three, p3: { members: ['e'], leader: 'e' } }, { version: 2 }));
    let moved = 0;
    for (const key of keys(1000)) {
      const was = before.route(key)?.partition;
      const now = after.route(key)?.partition;
      if (was === now) continue;
      moved++;
      assert.equal(now, 'p3', `${key} moved from ${was} to ${now}, not to the new partition`);
    }
    assert.ok(moved > 150 && moved < 350, `moved ${moved} of 1000 keys, expected about 250`);
  });

  it('keeps the keys of a partition without a leader on that partition', () => {
    const withLeader = new RoutingTable(snapshotOf(three));
    const leaderless = new RoutingTable(snapshotOf({ ...three, p1: { members: ['c'] } }));
    for (const key of keys(300)) {
      const route = leaderless.route(key);
      assert.equal(route?.partition, withLeader.route(key)?.partition);
      if (route?.partition === 'p1') assert.equal(route.leader, undefined);
    }
  });

  it('keeps the keys of a partition with no live replica on that partition', () => {
    const table = new RoutingTable(snapshotOf(three, { partitions: ['p0', 'p1', 'p2', 'p3'] }));
    const owned = keys(1000).filter((key) => table.route(key)?.partition === 'p3');
    assert.ok(owned.length > 0);
    assert.deepEqual(table.route(owned[0] ?? ''), { partition: 'p3', replicas: [] });
  });

  it('ignores a leader record older than the partition state', () => {
    const snapshot = snapshotOf({ p0: { members: ['a', 'b'], leader: 'a', epoch: 3 } });
    const records = snapshot.partitions.get('p0');
    assert.ok(records?.state);
    records.state = { ...records.state, epoch: 4, leader: 'b' };
    assert.equal(new RoutingTable(snapshot).route('x')?.leader, undefined);
  });

  it('answers nothing without a ring', () => {
    assert.equal(new RoutingTable({ partitions: new Map() }).route('x'), undefined);
  });

  it('hands out replicas round-robin for eventual reads', () => {
    const table = new RoutingTable(snapshotOf({ p0: { members: ['c', 'a', 'b'], leader: 'a' } }));
    const route = table.route('x');
    assert.ok(route);
    const picked = Array.from({ length: 6 }, () => table.nextReplica(route)?.id);
    assert.deepEqual(picked, ['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('recognises a member by its url, with or without a trailing slash', () => {
    const table = new RoutingTable(snapshotOf(three));
    assert.equal(table.memberAt('p0', `${urlOf('b')}/`)?.id, 'b');
    assert.equal(table.memberAt('p0', urlOf('c')), undefined, 'c belongs to another partition');
  });
});
