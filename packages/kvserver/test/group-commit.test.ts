import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeStorage, countCommits, noopEntry, openStorage, putEntry, tempDataDir, warmUp, type Opened } from './support/storage';

/**
 * Group commit, counted in LMDB write transactions (the root's 'aftercommit'
 * event; with --fsync on each is one fsync): never in time, so that these
 * tests say the same on a fast disk and a slow one.
 */

async function withCountedStorage(fsync: boolean, run: (opened: Opened, commits: ReturnType<typeof countCommits>) => Promise<void>): Promise<void> {
  const opened = await openStorage(tempDataDir('group-commit'), { fsync });
  try {
    await warmUp(opened.engine);
    const commits = countCommits(opened.engine);
    await run(opened, commits);
  } finally {
    await closeStorage(opened);
  }
}

/** The next put for `log`, numbered after its end. */
const nextPut = (opened: Opened, writer: number): ReturnType<typeof putEntry> =>
  putEntry(opened.log.lastSeq + 1, 1, `w${writer}-${opened.log.lastSeq + 1}`, 'x'.repeat(100));

/** `writers` concurrent writers, each appending one entry and awaiting its own flush, `rounds` times. */
async function runWriters(opened: Opened, writers: number, rounds: number): Promise<number> {
  let acknowledged = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let round = 0; round < rounds; round++) {
        const entry = nextPut(opened, writer);
        opened.log.append([entry]);
        opened.store.apply(entry);
        await opened.log.flush();
        assert.ok(opened.log.durableSeq >= entry.seq, `entry ${entry.seq} acknowledged before it was durable`);
        acknowledged++;
      }
    }),
  );
  return acknowledged;
}

describe('group commit', () => {
  for (const fsync of [true, false]) {
    for (const count of [1, 16, 64]) {
      it(`commits ${count} append(s) made in one turn in one transaction (fsync ${fsync ? 'on' : 'off'})`, () =>
        withCountedStorage(fsync, async (opened, commits) => {
          const first = opened.log.lastSeq + 1;
          for (let n = 0; n < count; n++) {
            const entry = nextPut(opened, n);
            opened.log.append([entry]);
            opened.store.apply(entry);
          }
          const flushes = Array.from({ length: count }, () => opened.log.flush());
          await Promise.all(flushes);
          assert.equal(commits.count, 1, `${count} appends (and their state writes) took ${commits.count} commits`);
          assert.equal(opened.log.durableSeq, first + count - 1);
        }));
    }
  }

  it('commits a truncation, a compaction and appends made in one turn together', () =>
    withCountedStorage(true, async (opened, commits) => {
      opened.log.append(Array.from({ length: 10 }, (_, index) => noopEntry(index + 1, 1)));
      await opened.log.flush();
      commits.reset();
      opened.log.compactTo(3);
      opened.log.truncateFrom(8);
      opened.log.append([noopEntry(8, 2), noopEntry(9, 2)]);
      await opened.log.flush();
      assert.equal(commits.count, 1);
      assert.deepEqual([opened.log.baseSeq, opened.log.lastSeq, opened.log.durableSeq], [3, 9, 9]);
    }));

  it('one writer awaiting each flush pays one commit per write', () =>
    withCountedStorage(true, async (opened, commits) => {
      const acknowledged = await runWriters(opened, 1, 20);
      assert.equal(acknowledged, 20);
      assert.equal(commits.count, 20);
    }));

  it('concurrent writers, each awaiting its own flush, share commits: more writers, more writes per commit', () =>
    withCountedStorage(true, async (opened, commits) => {
      const rounds = 10;
      const perCommit = new Map<number, number>();
      for (const writers of [1, 16, 64]) {
        commits.reset();
        const acknowledged = await runWriters(opened, writers, rounds);
        assert.equal(acknowledged, writers * rounds);
        perCommit.set(writers, acknowledged / commits.count);
        // Writers that all wait on the same flush come back together: one commit per round at most.
        assert.ok(commits.count <= rounds + 1, `${writers} writers × ${rounds} rounds took ${commits.count} commits`);
      }
      const [one, sixteen, sixtyFour] = [perCommit.get(1)!, perCommit.get(16)!, perCommit.get(64)!];
      assert.equal(one, 1);
      assert.ok(sixteen >= 8, `16 writers: ${sixteen} writes per commit`);
      assert.ok(sixtyFour > sixteen, `64 writers: ${sixtyFour} writes per commit, 16 writers: ${sixteen}`);
    }));

  it('writers that arrive while a commit is under way share the next one', () =>
    withCountedStorage(true, async (opened, commits) => {
      const first = nextPut(opened, 0);
      opened.log.append([first]);
      const firstFlush = opened.log.flush();
      // Arrive in later turns, while the first commit (and its fsync) is under way.
      const later: Array<Promise<void>> = [];
      for (let n = 1; n <= 20; n++) {
        await new Promise((resolve) => setImmediate(resolve));
        opened.log.append([nextPut(opened, n)]);
        later.push(opened.log.flush());
      }
      await Promise.all([firstFlush, ...later]);
      assert.ok(commits.count < 21, `21 writes in 21 turns took ${commits.count} commits`);
      assert.equal(opened.log.durableSeq, opened.log.lastSeq);
    }));
});
