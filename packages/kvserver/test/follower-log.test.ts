import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEntry } from '../src/replication/entry';
import { acceptAppend } from '../src/replication/follower-log';
import { MemoryLog } from '../src/replication/log';
import type { AppendRequest } from '../src/replication/messages';

const entry = (seq: number, epoch: number): LogEntry => ({ seq, epoch, op: { type: 'put', key: `k${seq}`, value: Buffer.from(`v${seq}@${epoch}`), expiresAt: null } });

/** A log whose entry i (from 1) has epoch epochs[i-1]. */
function logWithEpochs(...epochs: number[]): MemoryLog {
  const log = new MemoryLog();
  log.append(epochs.map((epoch, index) => entry(index + 1, epoch)));
  return log;
}

const epochsOf = (log: MemoryLog): number[] => Array.from({ length: log.lastSeq - log.baseSeq }, (_, index) => log.epochAt(log.baseSeq + index + 1)!);

function request(prevSeq: number, prevEpoch: number, entries: LogEntry[], commitSeq = 0, epoch = 3): AppendRequest {
  return { epoch, leaderId: 'leader', leaderUrl: 'http://leader', prevSeq, prevEpoch, commitSeq, entries };
}

describe('acceptAppend', () => {
  it('appends after a matching point and reports the match', () => {
    const log = logWithEpochs(1, 1);
    const outcome = acceptAppend(log, 0, request(2, 1, [entry(3, 2), entry(4, 2)]));
    assert.deepEqual(outcome.response, { ok: true, epoch: 3, matchSeq: 4 });
    assert.deepEqual(epochsOf(log), [1, 1, 2, 2]);
  });

  it('refuses when it lacks prevSeq, hinting its own last seq', () => {
    const log = logWithEpochs(1, 1);
    const outcome = acceptAppend(log, 0, request(5, 1, [entry(6, 1)]));
    assert.deepEqual(outcome.response, { ok: false, reason: 'mismatch', epoch: 3, lastSeq: 2 });
    assert.equal(log.lastSeq, 2);
  });

  it('refuses when prevSeq has another epoch, hinting one before it', () => {
    const log = logWithEpochs(1, 1, 1);
    const outcome = acceptAppend(log, 0, request(3, 2, [entry(4, 2)]));
    assert.deepEqual(outcome.response, { ok: false, reason: 'mismatch', epoch: 3, lastSeq: 2 });
    assert.deepEqual(epochsOf(log), [1, 1, 1]);
  });

  it('truncates a divergent uncommitted tail and takes the leader’s entries', () => {
    const log = logWithEpochs(1, 1, 1, 1);
    const outcome = acceptAppend(log, 2, request(2, 1, [entry(3, 2)]));
    assert.equal(outcome.response.ok, true);
    assert.deepEqual(epochsOf(log), [1, 1, 2], 'entry 3 replaced, entry 4 of the old epoch gone');
  });

  it('refuses to truncate a committed (applied) entry', () => {
    const log = logWithEpochs(1, 1, 1);
    assert.throws(() => acceptAppend(log, 3, request(1, 1, [entry(2, 2)])), /committed entry 2/);
    assert.deepEqual(epochsOf(log), [1, 1, 1]);
  });

  it('caps the commit point at what it has matched, and never lowers it', () => {
    const log = logWithEpochs(1, 1, 1, 1);
    assert.equal(acceptAppend(log, 0, request(1, 1, [entry(2, 1)], 4)).commitTo, 2, 'entries 3-4 are not known to match');
    assert.equal(acceptAppend(log, 0, request(4, 1, [], 3)).commitTo, 3);
    assert.equal(acceptAppend(log, 3, request(1, 1, [], 4)).commitTo, 3, 'already applied up to 3');
    const refused = acceptAppend(log, 2, request(9, 1, [], 9));
    assert.equal(refused.commitTo, 2);
  });

  it('accepts the same entries twice without change', () => {
    const log = logWithEpochs(1);
    const first = acceptAppend(log, 0, request(1, 1, [entry(2, 2), entry(3, 2)], 2));
    const again = acceptAppend(log, 2, request(1, 1, [entry(2, 2), entry(3, 2)], 2));
    assert.deepEqual(again, first);
    assert.deepEqual(epochsOf(log), [1, 2, 2]);
  });

  it('keeps a longer matching log on a late, shorter re-delivery', () => {
    const log = logWithEpochs(1, 1, 1);
    const outcome = acceptAppend(log, 0, request(0, 0, [entry(1, 1)]));
    assert.deepEqual(outcome.response, { ok: true, epoch: 3, matchSeq: 1 });
    assert.equal(log.lastSeq, 3);
  });

  it('treats entries folded into its state as matching', () => {
    const log = logWithEpochs(1, 1, 1, 1);
    log.compactTo(3);
    const outcome = acceptAppend(log, 3, request(1, 1, [entry(2, 1), entry(3, 1), entry(4, 1), entry(5, 2)], 5));
    assert.deepEqual(outcome.response, { ok: true, epoch: 3, matchSeq: 5 });
    assert.equal(outcome.commitTo, 5);
    assert.deepEqual(epochsOf(log), [1, 2]);
  });
});
