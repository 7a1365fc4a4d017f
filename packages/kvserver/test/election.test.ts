import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StateRecord } from '@kvstore/protocol';
import { applyIsrChange, decideCampaign, decideHandOver, decideResign, decideStepAside } from '../src/replication/election';

const state = (epoch: number, leader: string | null, isr: string[]): StateRecord => ({ epoch, leader, isr });

describe('planned transfer and maintenance', () => {
  const handedOver: StateRecord = { epoch: 4, leader: null, isr: ['a', 'b', 'c'], transferTo: 'b' };

  it('leaves the campaign to a live handover target that may lead, which clears the request', () => {
    assert.equal(decideCampaign({ self: 'c', state: handedOver, liveMembers: ['a', 'b', 'c'], leaderNodeExists: false }), undefined);
    assert.equal(decideCampaign({ self: 'a', state: handedOver, liveMembers: ['a', 'b', 'c'], leaderNodeExists: false }), undefined);
    assert.deepEqual(decideCampaign({ self: 'b', state: handedOver, liveMembers: ['a', 'b', 'c'], leaderNodeExists: false }), { epoch: 5, leader: 'b', isr: ['a', 'b', 'c'] });
  });

  it('lets another in-sync replica win when the target is gone or may not lead', () => {
    assert.equal(decideCampaign({ self: 'c', state: handedOver, liveMembers: ['a', 'c'], leaderNodeExists: false })?.leader, 'c');
    const outOfSync = { ...handedOver, isr: ['a', 'c'] };
    assert.equal(decideCampaign({ self: 'c', state: outOfSync, liveMembers: ['a', 'b', 'c'], leaderNodeExists: false })?.leader, 'c');
  });

  it('never elects an excluded replica, even when the in-sync set is empty, and carries the exclusion over', () => {
    const excluded: StateRecord = { epoch: 2, leader: null, isr: [], excluded: ['c'] };
    assert.equal(decideCampaign({ self: 'c', state: excluded, liveMembers: ['c'], leaderNodeExists: false }), undefined);
    assert.deepEqual(decideCampaign({ self: 'b', state: excluded, liveMembers: ['b', 'c'], leaderNodeExists: false }), { epoch: 3, leader: 'b', isr: ['b'], excluded: ['c'] });
  });

  it('hands over only while it leads the epoch and the target is in sync', () => {
    const led: StateRecord = { epoch: 4, leader: 'a', isr: ['a', 'b'] };
    assert.deepEqual(decideHandOver('a', 4, 'b', led), { ...led, leader: null, transferTo: 'b' });
    assert.equal(decideHandOver('a', 3, 'b', led), undefined);
    assert.equal(decideHandOver('a', 4, 'c', led), undefined);
    assert.equal(decideHandOver('b', 4, 'a', led), undefined);
  });

  it('excludes a member from the set, and adds none that is excluded', () => {
    const led: StateRecord = { epoch: 4, leader: 'a', isr: ['a', 'b', 'c'], incarnations: { a: 'm-1', c: 'm-3' } };
    const out = applyIsrChange(led, { exclude: 'c' });
    assert.deepEqual(out, { epoch: 4, leader: 'a', isr: ['a', 'b'], incarnations: { a: 'm-1' }, excluded: ['c'] });
    assert.deepEqual(applyIsrChange(out, { add: { id: 'c', url: 'u', incarnation: 'm-3' } }), out);
    assert.deepEqual(applyIsrChange(out, { remove: 'b' }).excluded, ['c'], 'other changes keep it');
  });
});

describe('decideCampaign', () => {
  it('lets an in-sync replica take over a dead leader: epoch + 1, in-sync set = live members of it plus itself', () => {
    const next = decideCampaign({ self: 'b', state: state(4, 'a', ['a', 'b', 'c']), liveMembers: ['b', 'c'], leaderNodeExists: false });
    assert.deepEqual(next, { epoch: 5, leader: 'b', isr: ['b', 'c'] });
  });

  it('drops in-sync members without a live session from the new set', () => {
    const next = decideCampaign({ self: 'c', state: state(2, 'a', ['a', 'b', 'c']), liveMembers: ['c', 'd'], leaderNodeExists: false });
    assert.deepEqual(next, { epoch: 3, leader: 'c', isr: ['c'] });
  });

  it('refuses a replica outside the in-sync set', () => {
    assert.equal(decideCampaign({ self: 'c', state: state(2, 'a', ['a', 'b']), liveMembers: ['b', 'c'], leaderNodeExists: false }), undefined);
  });

  it('lets anyone lead when the in-sync set is empty', () => {
    assert.deepEqual(decideCampaign({ self: 'c', state: state(0, null, []), liveMembers: ['a', 'b', 'c'], leaderNodeExists: false }), {
      epoch: 1,
      leader: 'c',
      isr: ['c'],
    });
  });

  it('does not campaign while the /leader node exists', () => {
    assert.equal(decideCampaign({ self: 'b', state: state(2, 'a', ['a', 'b']), liveMembers: ['b'], leaderNodeExists: true }), undefined);
  });

  it('does not campaign while the recorded leader is a live member', () => {
    assert.equal(decideCampaign({ self: 'b', state: state(2, 'a', ['a', 'b']), liveMembers: ['a', 'b'], leaderNodeExists: false }), undefined);
  });

  it('is not held off by a live recorded leader that may not lead (outside the in-sync set)', () => {
    assert.equal(decideCampaign({ self: 'a', state: state(2, 'c', ['a', 'b']), liveMembers: ['a', 'c'], leaderNodeExists: false })?.leader, 'a');
  });

  it('lets the recorded leader take its place back at a new epoch', () => {
    assert.deepEqual(decideCampaign({ self: 'a', state: state(2, 'a', ['a', 'b']), liveMembers: ['a', 'b'], leaderNodeExists: false }), {
      epoch: 3,
      leader: 'a',
      isr: ['a', 'b'],
    });
  });
});

describe('decideCampaign with incarnations', () => {
  // a, b, c were in sync as m-1, m-2, m-3; a led epoch 4.
  const recorded = (leader: string | null): StateRecord => ({ ...state(4, leader, ['a', 'b', 'c']), incarnations: { a: 'm-1', b: 'm-2', c: 'm-3' } });

  it('refuses a restarted replica while a live in-sync one that has not restarted exists', () => {
    const input = { state: recorded('a'), liveMembers: ['b', 'c'], liveIncarnations: { b: 'm-7', c: 'm-3' }, leaderNodeExists: false };
    assert.equal(decideCampaign({ ...input, self: 'b' }), undefined, 'b restarted (m-7) and c has not');
    assert.deepEqual(decideCampaign({ ...input, self: 'c' }), {
      epoch: 5,
      leader: 'c',
      isr: ['b', 'c'],
      incarnations: { b: 'm-2', c: 'm-3' },
    });
  });

  it('lets any of them lead when every live in-sync replica has restarted, recording the new leader as it is now', () => {
    const next = decideCampaign({ self: 'b', state: recorded('a'), liveMembers: ['b', 'c'], liveIncarnations: { b: 'm-7', c: 'm-8' }, leaderNodeExists: false });
    assert.deepEqual(next, { epoch: 5, leader: 'b', isr: ['b', 'c'], incarnations: { b: 'm-7', c: 'm-3' } });
  });

  it('does not let a restarted recorded leader hold off one that has not restarted', () => {
    const input = { state: recorded('a'), liveMembers: ['a', 'b'], liveIncarnations: { a: 'm-9', b: 'm-2' }, leaderNodeExists: false };
    assert.equal(decideCampaign({ ...input, self: 'a' }), undefined);
    assert.equal(decideCampaign({ ...input, self: 'b' })?.leader, 'b');
  });

  it('still lets a recorded leader that has not restarted take its place back, and holds the others off', () => {
    const input = { state: recorded('a'), liveMembers: ['a', 'b'], liveIncarnations: { a: 'm-1', b: 'm-2' }, leaderNodeExists: false };
    assert.equal(decideCampaign({ ...input, self: 'b' }), undefined);
    assert.equal(decideCampaign({ ...input, self: 'a' })?.epoch, 5);
  });

  it('treats a replica with no recorded incarnation as not proven, giving way to one that is', () => {
    const mixed: StateRecord = { ...state(4, null, ['a', 'b']), incarnations: { b: 'm-2' } };
    const input = { state: mixed, liveMembers: ['a', 'b'], liveIncarnations: { a: 'm-1', b: 'm-2' }, leaderNodeExists: false };
    assert.equal(decideCampaign({ ...input, self: 'a' }), undefined);
    assert.deepEqual(decideCampaign({ ...input, self: 'b' }), { epoch: 5, leader: 'b', isr: ['a', 'b'], incarnations: { b: 'm-2' } });
  });

  it('records the first leader of a fresh partition', () => {
    const next = decideCampaign({ self: 'a', state: state(0, null, []), liveMembers: ['a', 'b'], liveIncarnations: { a: 'm-1', b: 'm-2' }, leaderNodeExists: false });
    assert.deepEqual(next, { epoch: 1, leader: 'a', isr: ['a'], incarnations: { a: 'm-1' } });
  });
});

describe('decideCampaign and the epoch the replica has seen', () => {
  it('takes an epoch above both the state and what the replica has already followed', () => {
    // A /state written back by hand to an older epoch: leading epoch 3 would be refused by the replica itself.
    const next = decideCampaign({ self: 'a', state: state(2, null, ['a', 'b']), liveMembers: ['a', 'b'], leaderNodeExists: false, epochSeen: 7 });
    assert.equal(next?.epoch, 8);
  });
});

describe('decideStepAside', () => {
  it('clears its own leadership of that epoch, keeping the in-sync set', () => {
    const current: StateRecord = { ...state(5, 'a', ['a', 'b']), incarnations: { a: 'm-1' } };
    assert.deepEqual(decideStepAside('a', 5, current), { ...current, leader: null });
  });

  it('leaves a state that has moved on alone', () => {
    assert.equal(decideStepAside('a', 5, state(6, 'b', ['a', 'b'])), undefined);
    assert.equal(decideStepAside('a', 5, state(5, null, ['b'])), undefined);
  });
});

describe('decideResign', () => {
  it('takes a follower out of the in-sync set, keeping epoch and leader', () => {
    assert.deepEqual(decideResign('b', state(3, 'a', ['a', 'b', 'c'])), state(3, 'a', ['a', 'c']));
  });

  it('clears the leader when the leader resigns', () => {
    assert.deepEqual(decideResign('a', state(3, 'a', ['a', 'b'])), state(3, null, ['b']));
  });

  it('changes nothing for a replica that is neither leader nor in sync', () => {
    assert.equal(decideResign('d', state(3, 'a', ['a', 'b'])), undefined);
  });
});
