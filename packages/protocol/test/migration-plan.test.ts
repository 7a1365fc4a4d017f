import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KvError } from '../src/errors';
import { forceRemove, migrationView, planMigration, type MigrationRequest } from '../src/migration-plan';
import type { MigrationRecord, ProgressRecord } from '../src/records';
import { Ring, ringRecord } from '../src/ring';
import { SLOT_COUNT, placeSlots } from '../src/slots';

const NOW = 1_700_000_000_000;

/** A sealed ring at `version` whose table is the placement of `partitions`, with a `since` entry for slot 7. */
function placedRing(partitions: string[], version = 5, extra: string[] = []): Ring {
  return new Ring(ringRecord(version, placeSlots(partitions), { extra, since: { 7: 40 }, sealed: true }));
}

function refused(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => error instanceof KvError && error.code === 'BAD_REQUEST' && message.test(error.message));
}

/** Slot by slot, where the migration takes each slot from and to (by name). */
function moves(migration: MigrationRecord): Array<[slot: number, from: string, to: string]> {
  const result: Array<[number, string, string]> = [];
  migration.target.forEach((goal, slot) => {
    if (goal !== migration.original[slot]) result.push([slot, migration.names[migration.original[slot]!]!, migration.names[goal]!]);
  });
  return result;
}

describe('planMigration', () => {
  test('add: the new partition is listed on the next ring version with no slot, and about 1/N of the slots move, all to it', () => {
    const ring = placedRing(['p0', 'p1']);
    const plan = planMigration(ring, { kind: 'add', partition: 'p2' }, 'm-1', NOW);
    assert.equal(plan.ring.version, 6);
    assert.deepEqual(plan.ring.partitions, ['p0', 'p1', 'p2']);
    assert.equal(plan.ring.sealed, true);
    assert.deepEqual(plan.ring.since, { 7: 40 });
    const next = new Ring(plan.ring);
    assert.deepEqual(next.slotOwners(), ring.slotOwners(), 'no slot changes owner before it is moved');
    assert.equal(next.slotCounts().get('p2'), 0);

    const { migration } = plan;
    assert.deepEqual(
      { id: migration.id, kind: migration.kind, partition: migration.partition, state: migration.state, startedAt: migration.startedAt, names: migration.names },
      { id: 'm-1', kind: 'add', partition: 'p2', state: 'running', startedAt: NOW, names: ['p0', 'p1', 'p2'] },
    );
    assert.deepEqual(migration.original.map((index) => migration.names[index]), ring.slotOwners());
    assert.deepEqual(migration.target.map((index) => migration.names[index]), placeSlots(['p0', 'p1', 'p2']));
    const moved = moves(migration);
    assert.ok(moved.every(([, , to]) => to === 'p2'));
    assert.ok(moved.length > SLOT_COUNT / 3 / 2 && moved.length < (SLOT_COUNT / 3) * 2, `moved ${moved.length}`);
  });

  test('add again after an aborted add: a listed partition that owns no slot may be added', () => {
    const ring = placedRing(['p0', 'p1'], 8, ['p2']);
    assert.ok(ring.has('p2'));
    const plan = planMigration(ring, { kind: 'add', partition: 'p2' }, 'm-2', NOW);
    assert.deepEqual(plan.ring.partitions, ['p0', 'p1', 'p2']);
    assert.ok(moves(plan.migration).length > 0);
  });

  test("remove: the ring stays as it is, and only the removed partition's slots move, to the others", () => {
    const ring = placedRing(['p0', 'p1', 'p2']);
    const plan = planMigration(ring, { kind: 'remove', partition: 'p1' }, 'm-3', NOW);
    assert.equal(plan.ring, ring.record);
    assert.equal(plan.migration.partition, 'p1');
    const moved = moves(plan.migration);
    assert.equal(moved.length, ring.slotCounts().get('p1'));
    assert.ok(moved.every(([, from, to]) => from === 'p1' && to !== 'p1'));
  });

  test('rebalance: a table far from the placement is moved to it', () => {
    const skewed = placeSlots(['p0', 'p1']).map((owner, slot) => (slot < 1000 ? 'p0' : owner));
    const ring = new Ring(ringRecord(3, skewed, { sealed: true }));
    const plan = planMigration(ring, { kind: 'rebalance' }, 'm-4', NOW);
    assert.equal(plan.migration.partition, null);
    assert.equal(plan.ring, ring.record);
    assert.deepEqual(plan.migration.target.map((index) => plan.migration.names[index]), placeSlots(['p0', 'p1']));
    assert.ok(moves(plan.migration).every(([slot, from, to]) => slot < 1000 && from === 'p0' && to === 'p1'));
  });

  test('a ring without a slot table (an older record) is planned on its placement, and the add writes the table out', () => {
    const ring = new Ring({ version: 2, partitions: ['p0', 'p1'] });
    const plan = planMigration(ring, { kind: 'add', partition: 'p2' }, 'm-5', NOW);
    assert.deepEqual(new Ring(plan.ring).slotOwners(), placeSlots(['p0', 'p1']));
  });

  test('refuses, saying why: a bad name, a partition already owning slots, one not on the ring or owning none, the last one, an empty ring, nothing to move', () => {
    const ring = placedRing(['p0', 'p1'], 5, ['p9']);
    const plan = (request: MigrationRequest) => () => planMigration(ring, request, 'm', NOW);
    refused(plan({ kind: 'add', partition: '../x' }), /invalid partition name "..\/x"/);
    refused(plan({ kind: 'remove', partition: '' }), /invalid partition name ""/);
    refused(plan({ kind: 'add', partition: 'p1' }), /p1 is already on the ring: it owns \d+ slots/);
    refused(plan({ kind: 'remove', partition: 'p7' }), /p7 is not on the ring/);
    refused(plan({ kind: 'remove', partition: 'p9' }), /p9 owns no slots: there is nothing to move off it/);
    refused(plan({ kind: 'rebalance' }), /nothing to move: every slot is already where the placement of p0, p1 puts it/);
    refused(() => planMigration(placedRing(['p0']), { kind: 'remove', partition: 'p0' }, 'm', NOW), /cannot remove p0: it is the last partition that owns slots/);
    refused(() => planMigration(new Ring({ version: 0, partitions: [] }), { kind: 'add', partition: 'p0' }, 'm', NOW), /the ring has no partition yet/);
  });
});

describe('forceRemove', () => {
  test("gives the partition's slots to the placement of the others, drops its since entries and takes it off the list", () => {
    const ring = new Ring(ringRecord(5, placeSlots(['p0', 'p1', 'p2']), { since: { 1: 10, 2: 20, 3: 30 }, sealed: true }));
    const owned = ring.slotOwners().flatMap((owner, slot) => (owner === 'p1' ? [slot] : []));
    const { ring: record, slotsGivenUp } = forceRemove(ring, 'p1');
    assert.equal(slotsGivenUp, owned.length);
    assert.equal(record.version, 6);
    assert.equal(record.sealed, true);
    assert.deepEqual(record.partitions, ['p0', 'p2']);
    const next = new Ring(record);
    const rest = placeSlots(['p0', 'p2']);
    ring.slotOwners().forEach((owner, slot) => assert.equal(next.ownerOfSlot(slot), owner === 'p1' ? rest[slot] : owner, `slot ${slot}`));
    const expectedSince = Object.fromEntries(Object.entries({ 1: 10, 2: 20, 3: 30 }).filter(([slot]) => !owned.includes(Number(slot))));
    assert.deepEqual(record.since ?? {}, expectedSince);
  });

  test('a listed partition that owns nothing just leaves the list; the last owner and strangers are refused', () => {
    const ring = placedRing(['p0', 'p1'], 5, ['p9']);
    const { ring: record, slotsGivenUp } = forceRemove(ring, 'p9');
    assert.equal(slotsGivenUp, 0);
    assert.deepEqual(record.partitions, ['p0', 'p1']);
    refused(() => forceRemove(ring, 'p7'), /p7 is not on the ring/);
    refused(() => forceRemove(placedRing(['p0']), 'p0'), /last partition that owns slots/);
  });
});

describe('migrationView', () => {
  const start = placedRing(['p0', 'p1']);
  const { migration } = planMigration(start, { kind: 'add', partition: 'p2' }, 'm-7', NOW);
  const moving = moves(migration).map(([slot]) => slot);
  /** The table with the first `count` moving slots at their target. */
  const after = (count: number): Ring =>
    new Ring(ringRecord(9, start.slotOwners().map((owner, slot) => (moving.indexOf(slot) >= 0 && moving.indexOf(slot) < count ? 'p2' : owner)), { extra: ['p2'] }));
  const progress = (partition: string, fields: Partial<ProgressRecord>): [string, ProgressRecord] => [
    partition,
    { migration: 'm-7', slotsMoved: 0, keysMoved: 0, bytesMoved: 0, pauseMsMax: 0, pauseMsTotal: 0, pauses: 0, updatedAt: NOW, ...fields },
  ];

  test('at the start nothing has moved and the ETA is unknown', () => {
    const view = migrationView(migration, start, new Map(), NOW);
    assert.deepEqual(view, {
      id: 'm-7',
      kind: 'add',
      partition: 'p2',
      state: 'running',
      startedAt: NOW,
      finishedAt: null,
      slotsTotal: moving.length,
      slotsMoved: 0,
      keysMoved: 0,
      bytesMoved: 0,
      keysPerSecond: 0,
      etaSeconds: null,
      pauseMsMax: 0,
      pauseMsMean: 0,
      blocked: [],
    });
  });

  test("halfway: slots moved by the table, keys and pauses from this migration's progress only, rate and ETA from the time so far", () => {
    const half = Math.floor(moving.length / 2);
    const records = new Map([
      progress('p0', { keysMoved: 3000, bytesMoved: 90_000, pauseMsMax: 40, pauseMsTotal: 100, pauses: 4 }),
      progress('p1', { keysMoved: 1000, bytesMoved: 10_000, pauseMsMax: 75, pauseMsTotal: 75, pauses: 1, blocked: 'p2 has no leader' }),
      ['p9', { ...progress('p9', { keysMoved: 99_999, pauseMsMax: 5000 })[1], migration: 'm-older' }],
    ]);
    const view = migrationView(migration, after(half), records, NOW + 20_000);
    assert.equal(view.slotsMoved, half);
    assert.equal(view.slotsTotal, moving.length);
    assert.equal(view.keysMoved, 4000);
    assert.equal(view.bytesMoved, 100_000);
    assert.equal(view.pauseMsMax, 75);
    assert.equal(view.pauseMsMean, 35, 'the mean over every batch of this migration, whichever source moved it');
    assert.equal(view.keysPerSecond, 200);
    assert.equal(view.etaSeconds, Math.ceil((moving.length - half) / (half / 20)));
    assert.deepEqual(view.blocked, [{ partition: 'p1', reason: 'p2 has no leader' }]);
  });

  test("done: every slot moved, the rate is over the migration's own time, no ETA and nothing blocked", () => {
    const done = { ...migration, state: 'done' as const, finishedAt: NOW + 10_000 };
    const records = new Map([progress('p0', { keysMoved: 5000, blocked: 'stale' })]);
    const view = migrationView(done, after(moving.length), records, NOW + 3_600_000);
    assert.deepEqual([view.slotsMoved, view.slotsTotal, view.finishedAt], [moving.length, moving.length, NOW + 10_000]);
    assert.equal(view.keysPerSecond, 500);
    assert.equal(view.etaSeconds, null);
    assert.deepEqual(view.blocked, []);
  });

  test('aborting: the slots counted are those still to move back', () => {
    const aborting = { ...migration, state: 'aborting' as const, target: [...migration.original] };
    const view = migrationView(aborting, after(10), new Map(), NOW + 1000);
    assert.deepEqual([view.slotsMoved, view.slotsTotal], [0, 10]);
    assert.equal(migrationView(aborting, start, new Map(), NOW + 1000).etaSeconds, 0);
  });
});
