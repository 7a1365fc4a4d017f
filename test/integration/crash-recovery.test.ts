import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, put, startCluster, waitFor } from '@kvstore/testkit';
import { assertAllReadable, dataDirOf, diskUse, putMany, startWriters, waitCaughtUp } from './durable-support';

const SESSION_TIMEOUT_MS = 2000;
const CYCLES = 3;

test('SIGKILL of every replica of a partition mid-load, three times over, loses no acknowledged write', async (t) => {
  const cluster = await startCluster({ name: 'crash-all', partitions: 1, replicas: 3, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  // Expiry is absolute and set by the leader: it survives the restarts, neither lost nor extended.
  const longLived = await put(gate, 'ttl-long', 'stays', { query: { ttl: 600 } });
  const shortLived = await put(gate, 'ttl-short', 'goes', { query: { ttl: 2 } });
  assert.deepEqual([longLived.status, shortLived.status], [200, 200]);
  const shortExpiresAt = Date.now() + 2000;
  const writers = startWriters(gate, 12, 'crash');
  t.after(() => writers.stop());
  const restartTimes: number[] = [];

  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    writers.round = cycle;
    // Load under way: acknowledged writes in this cycle, and more still coming.
    await waitFor(() => writers.ackedSince(cycle) >= 300, { timeoutMs: 30_000, what: `300 writes acknowledged in cycle ${cycle}` });

    const servers = [...cluster.servers.values()];
    await Promise.all(servers.map((server) => server.process.kill()));
    const ackedBeforeRestart = writers.acked.length;
    writers.round = cycle + 0.5;

    const restartedAt = Date.now();
    await Promise.all(servers.map((server) => cluster.restartServer(server.id)));
    const processesUp = Date.now() - restartedAt;
    // The restarted partition takes writes again, with its whole in-sync set back.
    await waitFor(() => writers.ackedSince(cycle + 0.5) >= 50, { timeoutMs: 30_000, what: `writes acknowledged after restart ${cycle}` });
    const firstAck = Math.min(...writers.acked.filter((ack) => ack.round > cycle).map((ack) => ack.at!));
    restartTimes.push(firstAck - restartedAt);
    await cluster.waitForLeader('p0', { timeoutMs: 6 * SESSION_TIMEOUT_MS });
    await cluster.waitForIsr('p0', 3, { timeoutMs: 30_000 });
    t.diagnostic(
      `cycle ${cycle}: ${ackedBeforeRestart} acked before the kill; processes healthy ${processesUp} ms after the restart began, first write acknowledged after ${restartTimes.at(-1)} ms`,
    );
  }
  await writers.stop();
  t.diagnostic(`${writers.acked.length} of ${writers.attempts} writes acknowledged over ${CYCLES} kill/restart cycles`);

  await assertAllReadable(gate, writers.acked);
  assert.equal((await get(gate, 'ttl-long')).body.toString(), 'stays');
  assert.ok(Date.now() > shortExpiresAt);
  assert.equal((await get(gate, 'ttl-short')).status, 404, 'expired across the restarts');

  // No version is ever handed out twice, and versions keep rising across the restarts.
  const versions = writers.acked.map((ack) => ack.version);
  assert.equal(new Set(versions).size, versions.length, 'two acknowledged writes share a version');
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const before = writers.acked.filter((ack) => ack.round <= cycle);
    const after = writers.acked.filter((ack) => ack.round > cycle);
    if (before.length === 0 || after.length === 0) continue;
    const maxBefore = Math.max(...before.map((ack) => ack.version));
    const minAfter = Math.min(...after.map((ack) => ack.version));
    assert.ok(minAfter > maxBefore, `after restart ${cycle}, a write got version ${minAfter}, not above ${maxBefore} acknowledged before the kill`);
  }
  const fresh = await put(gate, 'crash-final', 'x');
  assert.equal(fresh.status, 200);
  assert.ok((fresh.json as { version: number }).version > Math.max(...versions));

  // Every replica holds every acknowledged write itself.
  for (const server of cluster.servers.values()) {
    await waitCaughtUp(cluster, server);
    await assertAllReadable(server.url, writers.acked, { consistency: 'eventual', who: server.id });
  }
  t.diagnostic(`restart to the first acknowledged write: ${restartTimes.join(', ')} ms (session timeout ${SESSION_TIMEOUT_MS} ms)`);
});

test('disk use stays a small multiple of the live data when the same 10,000 keys are overwritten again and again', async (t) => {
  // 100 rounds of 10,000 puts do not fit the CI budget over HTTP (about 2,000 puts/s on 2 cores, memory
  // mode included): this writes as many rounds as fit in ~35 s, well past the point where the log
  // (20,000 entries by default) is compacting in a steady state. compaction.test.ts writes the full 100
  // rounds through the storage engine itself.
  const KEYS = 10_000;
  const VALUE_BYTES = 100;
  const BUDGET_MS = 35_000;
  const cluster = await startCluster({ name: 'disk-use', partitions: 1, replicas: 1, serverArgs: ['--fsync', 'off'] });
  t.after(() => cluster.stop());
  const server = [...cluster.servers.values()][0]!;
  const startedAt = Date.now();

  const valueOf = (round: number) => (n: number) => `${round}:${n}:`.padEnd(VALUE_BYTES, 'x');
  const sizes: number[] = [];
  let rounds = 0;
  while (rounds < 100 && (rounds < 4 || Date.now() - startedAt < BUDGET_MS)) {
    await putMany(server.url, 'disk', KEYS, valueOf(rounds), 100);
    rounds++;
    sizes.push(diskUse(dataDirOf(server)));
  }
  const elapsed = Date.now() - startedAt;
  const live = KEYS * VALUE_BYTES;
  const used = sizes.at(-1)!;
  const ratio = used / live;
  t.diagnostic(`${rounds} rounds × ${KEYS} keys × ${VALUE_BYTES} B in ${elapsed} ms (${Math.round((rounds * KEYS) / (elapsed / 1000))} puts/s)`);
  t.diagnostic(`data dir after each round (MB): ${sizes.map((size) => (size / 1e6).toFixed(2)).join(' ')}; live data ${live / 1e6} MB; ratio ${ratio.toFixed(2)}×`);
  assert.ok(ratio <= 10, `the data dir uses ${ratio.toFixed(2)}× the live data`);
  assert.ok(used <= sizes[Math.min(2, sizes.length - 1)]! * 1.5, `the data dir keeps growing: ${sizes.join(', ')}`);

  // And the last round is what is there.
  const sample = Array.from({ length: 200 }, (_, i) => i * 50);
  await assertAllReadable(server.url, sample.map((n) => ({ key: `disk-${n}`, value: valueOf(rounds - 1)(n), version: 0, round: 0 })));
});
