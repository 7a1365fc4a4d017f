import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeRecord, parseMember, parseRing, type MemberRecord, type RingRecord } from '@kvstore/protocol';
import { MemoryZooKeeper } from '../src/testing';
import { WatchedChildren, watchRecord, type WatchLogger, type WatchedNode } from '../src/zk/watched-node';

class RecordingLogger implements WatchLogger {
  readonly lines: { level: 'info' | 'warn'; message: string; object: object }[] = [];
  info(object: object, message: string): void {
    this.lines.push({ level: 'info', message, object });
  }
  warn(object: object, message: string): void {
    this.lines.push({ level: 'warn', message, object });
  }
  count(message: string): number {
    return this.lines.filter((line) => line.message === message).length;
  }
}

/** Calls of an onChange, and a way to wait until one of them finds `ready` true. */
class Changes {
  count = 0;
  private waiters: { ready: () => boolean; resolve: () => void }[] = [];
  readonly notify = (): void => {
    this.count++;
    this.waiters = this.waiters.filter((waiter) => (waiter.ready() ? (waiter.resolve(), false) : true));
  };
  until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }
}

const ring = (version: number): Buffer => encodeRecord({ version, partitions: ['p0'] });

function ringWatch(logger = new RecordingLogger()): { watch: WatchedNode<RingRecord>; changes: Changes; logger: RecordingLogger } {
  const changes = new Changes();
  return { watch: watchRecord('/ring', parseRing, changes.notify, logger), changes, logger };
}

describe('WatchedNode', () => {
  it('reads once per change: N changes, N reads, and the last value is kept', async () => {
    const zk = new MemoryZooKeeper();
    zk.write('/ring', ring(1));
    const { watch, changes } = ringWatch();
    await watch.attach(zk.connect());
    assert.equal(watch.value?.version, 1);
    for (let version = 2; version <= 6; version++) {
      zk.write('/ring', ring(version));
      await changes.until(() => watch.value?.version === version);
    }
    assert.equal(zk.readCount('/ring'), 6, 'the first read and one per change');
  });

  it('keeps the last good record while the node is malformed, logs that once, and recovers when it is fixed', async () => {
    const zk = new MemoryZooKeeper();
    zk.write('/ring', ring(3));
    const { watch, changes, logger } = ringWatch();
    await watch.attach(zk.connect());
    for (const garbage of ['not json', 'not json', '{"version":-1}']) {
      const reads = zk.readCount('/ring');
      zk.write('/ring', garbage);
      await changes.until(() => zk.readCount('/ring') > reads && watch.problem !== undefined);
    }
    assert.equal(watch.value?.version, 3, 'the last good ring');
    assert.deepEqual(watch.problems(), [{ path: '/ring', error: 'malformed ring record: version must be an integer ≥ 0' }]);
    assert.equal(logger.count('malformed record in ZooKeeper: keeping the last good one'), 2, 'once per distinct problem, not per read');
    assert.equal(zk.readCount('/ring'), 4, 'a malformed record re-arms the watch once, like any other');

    zk.write('/ring', ring(4));
    await changes.until(() => watch.value?.version === 4);
    assert.equal(watch.problem, undefined);
    assert.equal(logger.count('record is well-formed again'), 1);
  });

  it('follows a node that does not exist yet, and its deletion', async () => {
    const zk = new MemoryZooKeeper();
    const { watch, changes } = ringWatch();
    await watch.attach(zk.connect());
    assert.equal(watch.value, undefined);
    zk.write('/ring', ring(1));
    await changes.until(() => watch.value?.version === 1);
    zk.delete('/ring');
    await changes.until(() => watch.value === undefined);
  });

  it('retries a failed read with a backoff, logging the failure once, and then arms one watch', async () => {
    const zk = new MemoryZooKeeper();
    zk.write('/ring', ring(1));
    const session = zk.connect();
    session.failReads(3);
    const { watch, changes, logger } = ringWatch();
    const started = Date.now();
    await watch.attach(session);
    assert.equal(watch.value?.version, 1);
    assert.ok(Date.now() - started >= 100 + 200 + 400 - 20, 'backed off 100, 200, 400 ms');
    assert.equal(logger.count('ZooKeeper read failed; retrying'), 1);
    assert.equal(zk.readCount('/ring'), 4);
    zk.write('/ring', ring(2));
    await changes.until(() => watch.value?.version === 2);
    assert.equal(zk.readCount('/ring'), 5, 'one read for one change after the retries');
  });

  it('stops reading when its session expires, keeps its value, and follows a newly attached session', async () => {
    const zk = new MemoryZooKeeper();
    zk.write('/ring', ring(1));
    const first = zk.connect();
    const { watch, changes } = ringWatch();
    await watch.attach(first);
    first.expire();
    zk.write('/ring', ring(2));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(zk.readCount('/ring'), 1, 'no read on an expired session');
    assert.equal(watch.value?.version, 1);
    await watch.attach(zk.connect());
    assert.equal(watch.value?.version, 2);
    zk.write('/ring', ring(3));
    await changes.until(() => watch.value?.version === 3);
  });

  it('follows a new session at once while a read on the old one never answers', async () => {
    const zk = new MemoryZooKeeper();
    zk.write('/ring', ring(1));
    const first = zk.connect();
    const { watch } = ringWatch();
    await watch.attach(first);
    first.hang();
    zk.write('/ring', ring(2));
    await new Promise((resolve) => setImmediate(resolve));
    await watch.attach(zk.connect());
    assert.equal(watch.value?.version, 2);
  });

  it('resolves nextRead at the next read, good or malformed', async () => {
    const zk = new MemoryZooKeeper();
    zk.write('/ring', ring(1));
    const { watch } = ringWatch();
    await watch.attach(zk.connect());
    const read = watch.nextRead();
    zk.write('/ring', 'garbage');
    await read;
    assert.equal(watch.problem?.path, '/ring');
  });

  it('reads nothing more once stopped', async () => {
    const zk = new MemoryZooKeeper();
    zk.write('/ring', ring(1));
    const { watch } = ringWatch();
    await watch.attach(zk.connect());
    watch.stop();
    zk.write('/ring', ring(2));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(zk.readCount('/ring'), 1);
    assert.equal(watch.value?.version, 1);
  });
});

describe('WatchedChildren', () => {
  const member = (id: string): Buffer => encodeRecord({ id, url: `http://127.0.0.1:1/${id}` });

  function membersWatch() {
    const changes = new Changes();
    const seen: string[][] = [];
    const logger = new RecordingLogger();
    const watch: WatchedChildren<WatchedNode<MemberRecord>> = new WatchedChildren(
      '/members',
      (name, notify) => watchRecord(`/members/${name}`, parseMember, notify, logger),
      () => {
        seen.push([...watch.children.values()].map((child) => child.value?.id ?? '?'));
        changes.notify();
      },
      logger,
    );
    return { watch, changes, seen };
  }

  it('reads every child before its first change notice, then follows additions and removals', async () => {
    const zk = new MemoryZooKeeper();
    zk.write('/members/m-1', member('a'));
    zk.write('/members/m-2', member('b'));
    const { watch, changes, seen } = membersWatch();
    await watch.attach(zk.connect());
    assert.deepEqual(seen, [['a', 'b']], 'one notice, with every child read');

    zk.write('/members/m-3', member('c'));
    await changes.until(() => watch.children.get('m-3')?.value?.id === 'c');
    zk.delete('/members/m-1');
    await changes.until(() => !watch.children.has('m-1'));
    assert.deepEqual([...watch.children.keys()], ['m-2', 'm-3']);
  });

  it('reports a malformed child and keeps its last good record', async () => {
    const zk = new MemoryZooKeeper();
    zk.write('/members/m-1', member('a'));
    const { watch, changes } = membersWatch();
    await watch.attach(zk.connect());
    zk.write('/members/m-1', '{"id":7}');
    await changes.until(() => watch.problems().length === 1);
    assert.deepEqual(watch.problems(), [{ path: '/members/m-1', error: 'malformed member record: id must be a non-empty string' }]);
    assert.equal(watch.children.get('m-1')?.value?.id, 'a');
  });

  it('follows a directory created after it started watching', async () => {
    const zk = new MemoryZooKeeper();
    const { watch, changes } = membersWatch();
    await watch.attach(zk.connect());
    assert.equal(watch.children.size, 0);
    zk.write('/members/m-1', member('a'));
    await changes.until(() => watch.children.get('m-1')?.value?.id === 'a');
  });
});
