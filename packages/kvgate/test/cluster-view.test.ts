import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ring, placeSlots, planMigration, ringRecord } from '@kvstore/protocol';
import { buildClusterView } from '../src/cluster/cluster-view';
import { RingSummaries, summarize } from '../src/cluster/ring-summary';
import { snapshotOf, urlOf } from './fixtures';

/** Slots per partition in the placement of `partitions`. */
function slotsOf(partitions: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const owner of placeSlots(partitions)) counts[owner] = (counts[owner] ?? 0) + 1;
  return counts;
}

describe('buildClusterView', () => {
  it('shows roles from the leader record, last sequence numbers and lag, null where a replica is silent', async () => {
    const snapshot = snapshotOf({ p0: { members: ['b', 'a', 'c'], leader: 'a', epoch: 4 }, p1: {} }, { version: 3 });
    const seqs: Record<string, number> = { [urlOf('a')]: 10, [urlOf('b')]: 7 };
    const view = await buildClusterView('blue', snapshot, async (url) => (url in seqs ? { lastSeq: seqs[url] ?? 0 } : undefined));
    assert.deepEqual(view, {
      cluster: 'blue',
      ring: { version: 3, partitions: ['p0', 'p1'], slots: slotsOf(['p0', 'p1']), sealed: false },
      migration: null,
      partitions: [
        {
          name: 'p0',
          epoch: 4,
          leader: 'a',
          isr: ['b', 'a', 'c'],
          members: [
            { id: 'a', url: urlOf('a'), role: 'leader', lastSeq: 10, lag: 0 },
            { id: 'b', url: urlOf('b'), role: 'follower', lastSeq: 7, lag: 3 },
            { id: 'c', url: urlOf('c'), role: 'follower', lastSeq: null, lag: null },
          ],
        },
        { name: 'p1', epoch: 1, leader: null, isr: [], members: [] },
      ],
      problems: [],
    });
  });

  it('answers an empty view before the ring is loaded', async () => {
    const view = await buildClusterView('default', { partitions: new Map() }, async () => undefined);
    assert.deepEqual(view, { cluster: 'default', ring: { version: 0, partitions: [], slots: {}, sealed: false }, migration: null, partitions: [], problems: [] });
  });

  it('lists the malformed records the watcher holds on to', async () => {
    const problem = { path: '/kvstore/default/partitions/p0/state', error: 'malformed state record: not JSON' };
    const view = await buildClusterView('default', { partitions: new Map() }, async () => undefined, [problem]);
    assert.deepEqual(view.problems, [problem]);
  });

  it("shows the ring's slots per partition, and the migration the summary holds", async () => {
    const ring = ringRecord(6, placeSlots(['p0', 'p1']), { extra: ['p2'], sealed: true });
    const { migration } = planMigration(new Ring(ring), { kind: 'add', partition: 'p2' }, 'm-1', 1000);
    const view = await buildClusterView('default', { ring, partitions: new Map() }, async () => undefined, [], summarize(ring, { migration, progress: new Map() }, 2000));
    assert.deepEqual(view.ring, { version: 6, partitions: ['p0', 'p1', 'p2'], slots: { ...slotsOf(['p0', 'p1']), p2: 0 }, sealed: true });
    assert.deepEqual([view.migration?.id, view.migration?.slotsMoved, view.migration?.slotsTotal], ['m-1', 0, migration.target.filter((goal, slot) => goal !== migration.original[slot]).length]);
    assert.deepEqual(view.partitions.map((partition) => partition.name), ['p0', 'p1', 'p2']);
  });
});

describe('summarize', () => {
  it('names, while a migration runs, each partition that sends or receives slots and has no leader (its sources cannot say so)', () => {
    const ring = ringRecord(6, placeSlots(['p0', 'p1']), { extra: ['p2'], sealed: true });
    const { migration } = planMigration(new Ring(ring), { kind: 'add', partition: 'p2' }, 'm-1', 1000);
    const blocked = (leaders: string[], state = migration.state) =>
      summarize(ring, { migration: { ...migration, state }, progress: new Map() }, 2000, (partition) => leaders.includes(partition)).migration?.blocked;
    assert.deepEqual(blocked(['p0', 'p1', 'p2']), []);
    assert.deepEqual(blocked(['p1', 'p2']), [{ partition: 'p0', reason: 'partition p0 has no leader: the moves to and from it wait' }]);
    assert.deepEqual(blocked(['p0', 'p1'])?.map((entry) => entry.partition), ['p2']);
    assert.deepEqual(blocked([], 'done'), [], 'an ended migration waits for nobody');
  });
});

describe('RingSummaries', () => {
  const ring = ringRecord(6, placeSlots(['p0', 'p1']), { extra: ['p2'] });
  const { migration } = planMigration(new Ring(ring), { kind: 'add', partition: 'p2' }, 'm-1', 1000);

  it('computes the summary again only when the ring or the migration records change, or a second on while a migration runs', () => {
    let now = 5000;
    const summaries = new RingSummaries(() => now);
    const records = { migration, progress: new Map() };
    const first = summaries.summary(ring, records);
    now += 999;
    assert.equal(summaries.summary(ring, records), first, 'the same records, within a second');
    now += 1;
    const later = summaries.summary(ring, records);
    assert.notEqual(later, first, 'a running migration, a second on: its rate and ETA move');
    assert.notEqual(summaries.summary(ring, { ...records }), later, 'new records');
    const done = { migration: { ...migration, state: 'done' as const, finishedAt: 6000 }, progress: new Map() };
    const finished = summaries.summary(ring, done);
    now += 60_000;
    assert.equal(summaries.summary(ring, done), finished, 'a finished migration does not change with the clock');
    assert.notEqual(summaries.summary({ ...ring }, done), finished, 'a new ring');
  });
});
