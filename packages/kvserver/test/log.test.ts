import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEntry } from '../src/replication/entry';
import { MemoryLog } from '../src/replication/log';

const put = (seq: number, epoch: number, value = 'v'): LogEntry => ({ seq, epoch, op: { type: 'put', key: `k${seq}`, value: Buffer.from(value), expiresAt: null } });

/** A log holding seq 1..count, all at `epoch`. */
function logOf(count: number, epoch = 1): MemoryLog {
  const log = new MemoryLog();
  log.append(Array.from({ length: count }, (_, index) => put(index + 1, epoch)));
  return log;
}

const seqs = (entries: LogEntry[]): number[] => entries.map((entry) => entry.seq);

describe('MemoryLog', () => {
  it('starts empty at base 0, epoch 0', () => {
    const log = new MemoryLog();
    assert.deepEqual([log.baseSeq, log.baseEpoch, log.lastSeq, log.lastEpoch], [0, 0, 0, 0]);
    assert.equal(log.epochAt(0), 0);
    assert.equal(log.entryAt(1), undefined);
  });

  it('appends contiguous entries and refuses gaps, repeats and epoch regressions', () => {
    const log = logOf(2, 1);
    log.append([put(3, 2)]);
    assert.deepEqual([log.lastSeq, log.lastEpoch], [3, 2]);
    assert.throws(() => log.append([put(5, 2)]), /gap/);
    assert.throws(() => log.append([put(3, 2)]), /gap/);
    assert.throws(() => log.append([put(4, 1)]), /epoch regression/);
    assert.equal(log.lastSeq, 3);
  });

  it('answers epochAt inside the window, at the base, and undefined outside', () => {
    const log = new MemoryLog();
    log.append([put(1, 1), put(2, 1), put(3, 2)]);
    assert.deepEqual([log.epochAt(0), log.epochAt(1), log.epochAt(3), log.epochAt(4)], [0, 1, 2, undefined]);
    log.compactTo(2);
    assert.deepEqual([log.epochAt(1), log.epochAt(2), log.epochAt(3)], [undefined, 1, 2]);
    assert.equal(log.entryAt(2), undefined, 'the base entry itself is folded away');
  });

  it('slices from a seq, bounded by entry count', () => {
    const log = logOf(10);
    assert.deepEqual(seqs(log.slice(4, 3, Infinity)), [4, 5, 6]);
    assert.deepEqual(seqs(log.slice(9, 100, Infinity)), [9, 10]);
    assert.deepEqual(log.slice(11, 100, Infinity), []);
  });

  it('slices bounded by bytes, but always gives at least one entry', () => {
    const log = new MemoryLog();
    log.append([put(1, 1, 'x'.repeat(100)), put(2, 1, 'x'.repeat(100)), put(3, 1, 'x'.repeat(100))]);
    // each entry counts 100 value bytes + 2 key bytes + 64 overhead = 166
    assert.deepEqual(seqs(log.slice(1, 10, 332)), [1, 2]);
    assert.deepEqual(seqs(log.slice(1, 10, 331)), [1]);
    assert.deepEqual(seqs(log.slice(1, 10, 1)), [1], 'an entry larger than the bound still goes alone');
  });

  it('slices from below the base starting at the first entry it holds', () => {
    const log = logOf(6);
    log.compactTo(3);
    assert.deepEqual(seqs(log.slice(1, 10, Infinity)), [4, 5, 6]);
  });

  it('truncates from a seq, dropping it and everything after', () => {
    const log = new MemoryLog();
    log.append([put(1, 1), put(2, 1), put(3, 1), put(4, 1)]);
    log.truncateFrom(3);
    assert.deepEqual([log.lastSeq, log.lastEpoch], [2, 1]);
    log.append([put(3, 2)]);
    assert.deepEqual([log.lastSeq, log.lastEpoch], [3, 2]);
    log.truncateFrom(10);
    assert.equal(log.lastSeq, 3, 'truncating past the end changes nothing');
  });

  it('refuses to truncate entries folded into the state', () => {
    const log = logOf(5);
    log.compactTo(3);
    assert.throws(() => log.truncateFrom(3), /in the state/);
    log.truncateFrom(4);
    assert.equal(log.lastSeq, 3);
  });

  it('compacts up to a seq, keeping the tail and the base epoch', () => {
    const log = new MemoryLog();
    log.append([put(1, 1), put(2, 2), put(3, 2), put(4, 3)]);
    log.compactTo(2);
    assert.deepEqual([log.baseSeq, log.baseEpoch, log.lastSeq, log.lastEpoch], [2, 2, 4, 3]);
    assert.deepEqual(seqs(log.slice(0, 10, Infinity)), [3, 4]);
    log.compactTo(1);
    assert.equal(log.baseSeq, 2, 'compacting backwards does nothing');
    log.compactTo(99);
    assert.deepEqual([log.baseSeq, log.baseEpoch, log.lastSeq, log.lastEpoch], [4, 3, 4, 3], 'no further than the last entry');
  });

  it('resets to a snapshot point, empty after it', () => {
    const log = logOf(3);
    log.resetTo(40, 5);
    assert.deepEqual([log.baseSeq, log.baseEpoch, log.lastSeq, log.lastEpoch], [40, 5, 40, 5]);
    assert.equal(log.epochAt(40), 5);
    assert.throws(() => log.append([put(4, 5)]), /gap/);
    log.append([put(41, 5)]);
    assert.equal(log.lastSeq, 41);
  });
});
