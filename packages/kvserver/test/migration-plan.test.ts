import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ring, SLOT_COUNT, placeSlots, ringRecord, slotOf, type MigrationRecord } from '@kvstore/protocol';
import { flipSlots, nextBatch, reachedTarget, settledRing, slotsToUnfence } from '../src/migration/plan';

function migration(from: readonly string[], to: readonly string[], state: MigrationRecord['state'] = 'running'): MigrationRecord {
  const names = [...new Set([...from, ...to])].sort();
  return {
    id: 'm-1',
    kind: 'add',
    partition: null,
    state,
    startedAt: 0,
    names,
    target: to.map((name) => names.indexOf(name)),
    original: from.map((name) => names.indexOf(name)),
  };
}

const before = placeSlots(['p0', 'p1']);
const after = placeSlots(['p0', 'p1', 'p2']);
const ring = new Ring(ringRecord(7, before, { extra: ['p2'], sealed: true }));

describe('slots', () => {
  it('hashes keys with CRC-16/XMODEM mod 4096 (the contract: "123456789" has CRC 0x31C3)', () => {
    assert.equal(slotOf('123456789'), 0x31c3 % SLOT_COUNT);
  });

  it('places about a third of the slots on a third partition, all of them taken from the other two', () => {
    const moved = after.filter((owner, slot) => owner !== before[slot]);
    assert.ok(moved.every((owner) => owner === 'p2'));
    assert.ok(moved.length > SLOT_COUNT * 0.2 && moved.length < SLOT_COUNT * 0.45, `${moved.length} slots moved`);
  });
});

describe('nextBatch', () => {
  const plan = migration(before, after);

  it('takes slots leaving this partition for one destination, up to about maxKeys keys', () => {
    const batch = nextBatch(ring, plan, 'p0', new Set(), () => 10, 50)!;
    assert.equal(batch.to, 'p2');
    assert.equal(batch.slots.length, 5);
    for (const slot of batch.slots) assert.equal(before[slot], 'p0');
  });

  it('takes at least one slot, however many keys it has', () => {
    assert.equal(nextBatch(ring, plan, 'p0', new Set(), () => 1e9, 50)!.slots.length, 1);
  });

  it('resumes the slots a previous leader fenced before any other', () => {
    const leaving = [...Array(SLOT_COUNT).keys()].filter((slot) => before[slot] === 'p0' && after[slot] === 'p2');
    const fenced = new Set([leaving[3]!, leaving[7]!]);
    assert.deepEqual(nextBatch(ring, plan, 'p0', fenced, () => 1, 1000)!.slots, [leaving[3], leaving[7]]);
  });

  it('leaves out the destinations that wait (no leader), and takes the next one', () => {
    const removal = migration(before, placeSlots(['p1', 'p2']).map((owner, slot) => (before[slot] === 'p0' ? owner : before[slot]!)));
    const first = nextBatch(ring, removal, 'p0', new Set(), () => 1, 10)!;
    const other = first.to === 'p1' ? 'p2' : 'p1';
    assert.equal(nextBatch(ring, removal, 'p0', new Set(), () => 1, 10, new Set([first.to]))!.to, other);
    assert.equal(nextBatch(ring, removal, 'p0', new Set(), () => 1, 10, new Set(['p1', 'p2'])), undefined);
  });

  it('has nothing for a partition that keeps all its slots', () => {
    assert.equal(nextBatch(ring, plan, 'p2', new Set(), () => 1, 1000), undefined);
  });
});

describe('slotsToUnfence', () => {
  const slot = before.indexOf('p0');
  it('keeps a fence while the slot is still leaving', () => {
    const plan = migration(before, before.map((owner, index) => (index === slot ? 'p2' : owner)));
    assert.deepEqual(slotsToUnfence(ring, plan, 'p0', new Set([slot])), []);
  });

  it('lifts it once the migration sends the slot back here (abort) or has ended', () => {
    assert.deepEqual(slotsToUnfence(ring, migration(before, before, 'aborting'), 'p0', new Set([slot])), [slot]);
    assert.deepEqual(slotsToUnfence(ring, migration(before, after, 'done'), 'p0', new Set([slot])), [slot]);
  });

  it('keeps the fence of a slot that has moved away (its keys wait for the purge)', () => {
    const flipped = new Ring(flipSlots(ring, [slot], 'p2', 5));
    assert.deepEqual(slotsToUnfence(flipped, undefined, 'p0', new Set([slot])), []);
  });
});

describe('flips and the end of a migration', () => {
  it('gives slots to the destination with the log position it holds them from, version + 1', () => {
    const flipped = new Ring(flipSlots(ring, [1, 2], 'p2', 42));
    assert.equal(flipped.version, 8);
    assert.equal(flipped.ownerOfSlot(1), 'p2');
    assert.equal(flipped.sinceOf(2), 42);
    assert.equal(flipped.sinceOf(3), 0);
    assert.ok(flipped.sealed);
  });

  it('reaches the target only when every slot is there, and then drops partitions that own nothing', () => {
    const plan = migration(before, placeSlots(['p1']));
    assert.ok(!reachedTarget(ring, plan));
    const done = new Ring(ringRecord(9, placeSlots(['p1']), { extra: ['p0', 'p2'], sealed: true }));
    assert.ok(reachedTarget(done, plan));
    assert.deepEqual(settledRing(done, plan)!.partitions, ['p1']);
  });
});
