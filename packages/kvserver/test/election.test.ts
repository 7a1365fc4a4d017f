import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StateRecord } from '@kvstore/topology';
import { decideCampaign, decideResign } from '../src/replication/election';

const state = (epoch: number, leader: string | null, isr: string[]): StateRecord => ({ epoch, leader, isr });

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

  it('lets the recorded leader take its place back at a new epoch', () => {
    assert.deepEqual(decideCampaign({ self: 'a', state: state(2, 'a', ['a', 'b']), liveMembers: ['a', 'b'], leaderNodeExists: false }), {
      epoch: 3,
      leader: 'a',
      isr: ['a', 'b'],
    });
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
