import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { startCluster, waitFor } from '@kvstore/testkit';
import {
  assertAllReadable,
  dataDirOf,
  followersOf,
  logSince,
  logSize,
  putMany,
  replicaStatus,
  startWriters,
  waitCaughtUp,
  type Ack,
} from './durable-support';

const SESSION_TIMEOUT_MS = 2000;
/** Small, so that the log is compacted all the time and a wiped follower needs a snapshot. */
const MAX_LOG_ENTRIES = '100';

test('a follower killed in the middle of a snapshot install wipes the half install, catches up and rejoins', async (t) => {
  const KEYS = 4000;
  const VALUE_BYTES = 8 * 1024; // ~45 MB of NDJSON: the transfer takes long enough to be caught in the middle
  const cluster = await startCluster({
    name: 'snapshot-kill',
    partitions: 1,
    replicas: 3,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    serverArgs: ['--max-log-entries', MAX_LOG_ENTRIES, '--fsync', 'off'],
  });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const acked: Ack[] = await putMany(gate, 'snap', KEYS, (n) => `${n}:`.padEnd(VALUE_BYTES, String.fromCharCode(97 + (n % 26))), 32);

  const [follower] = await followersOf(cluster, 'p0');
  assert.ok(follower);
  // A lost disk: stop it, empty its data dir, write on while it is away.
  await follower.process.stop();
  await cluster.waitForIsr('p0', 2, { timeoutMs: 4 * SESSION_TIMEOUT_MS });
  fs.rmSync(dataDirOf(follower), { recursive: true, force: true });
  acked.push(...(await putMany(gate, 'while-away', 200, (n) => `away-${n}`)));

  const logStart = logSize(follower);
  await cluster.restartServer(follower.id);
  // In the middle of the install: some of the state is in, not all of it.
  const seen = await waitFor(
    async () => {
      const status = await replicaStatus(follower);
      return status.keys > 0 && status.keys < KEYS / 2 ? status : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 5, what: `${follower.id} to be in the middle of a snapshot install` },
  );
  await follower.process.kill();
  const installedBeforeKill = /installed snapshot/.test(logSince(follower, logStart));
  t.diagnostic(`killed ${follower.id} with ${seen.keys} of ${KEYS + 200} keys installed${installedBeforeKill ? ' (but the install had finished!)' : ''}`);
  assert.equal(installedBeforeKill, false, 'the kill came after the install finished: the test did not catch it in the middle');

  const restartFrom = logSize(follower);
  const restartedAt = Date.now();
  await cluster.restartServer(follower.id);
  await cluster.waitForIsr('p0', 3, { timeoutMs: 30_000 });
  await waitCaughtUp(cluster, follower);
  const restartLog = logSince(follower, restartFrom);
  assert.match(restartLog, /snapshot install was cut short/, 'the half install is wiped at start');
  assert.match(restartLog, /installed snapshot/, 'and a whole snapshot installed after it');
  t.diagnostic(`back in sync ${Date.now() - restartedAt} ms after the restart`);
  await assertAllReadable(follower.url, acked, { consistency: 'eventual', who: follower.id });
  assert.equal((await replicaStatus(follower)).keys, KEYS + 200);
});

test('replicas killed while the log is compacting under load lose nothing and rejoin', async (t) => {
  const cluster = await startCluster({
    name: 'compaction-kill',
    partitions: 1,
    replicas: 3,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    serverArgs: ['--max-log-entries', MAX_LOG_ENTRIES],
  });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const writers = startWriters(gate, 8, 'compact', 200);
  t.after(() => writers.stop());
  await waitFor(() => writers.acked.length >= 400, { timeoutMs: 30_000, what: '400 writes acknowledged' });

  // A follower dies mid-compaction and stays away long enough for the leader's log to move past it.
  const [follower] = await followersOf(cluster, 'p0');
  await follower!.process.kill();
  const whileAway = writers.acked.length;
  await waitFor(() => writers.acked.length >= whileAway + 5 * Number(MAX_LOG_ENTRIES), { timeoutMs: 30_000, what: 'the log to move on' });
  await cluster.restartServer(follower!.id);
  await cluster.waitForIsr('p0', 3, { timeoutMs: 30_000 });
  t.diagnostic(`${follower!.id} rejoined after missing ${writers.acked.length - whileAway}+ writes`);

  // Then the leader dies mid-load too; it comes back as a follower.
  const leader = await cluster.waitForLeader('p0');
  await leader.process.kill();
  const successor = await cluster.waitForLeader('p0', { not: leader.id, timeoutMs: 4 * SESSION_TIMEOUT_MS });
  const afterFailover = writers.acked.length;
  await waitFor(() => writers.acked.length >= afterFailover + 200, { timeoutMs: 30_000, what: 'writes under the new leader' });
  await cluster.restartServer(leader.id);
  await cluster.waitForIsr('p0', 3, { timeoutMs: 30_000 });
  await waitFor(() => writers.acked.length >= afterFailover + 400, { timeoutMs: 30_000, what: 'writes with every replica back' });
  await writers.stop();
  t.diagnostic(`${writers.acked.length} of ${writers.attempts} writes acknowledged; ${successor.id} took over from ${leader.id}`);

  await assertAllReadable(gate, writers.acked);
  for (const server of cluster.servers.values()) {
    await waitCaughtUp(cluster, server);
    await assertAllReadable(server.url, writers.acked, { consistency: 'eventual', who: server.id });
    const status = await replicaStatus(server);
    assert.ok(status.keys >= writers.acked.length, `${server.id} holds ${status.keys} keys`);
  }
});
