import assert from 'node:assert/strict';
import { test } from 'node:test';
import { put, startCluster, waitFor } from '../kit';
import { assertAllReadable, dataDirOf, diskUse, putMany, startWriters, waitCaughtUp } from './durable-support';

const SESSION_TIMEOUT_MS = 2000;
const CYCLES = 3;

test('SIGKILL of every replica of a partition mid-load, three times over, loses no acknowledged write', async (t) => {
  const cluster = await startCluster({ name: 'crash-all', partitions: 1, replicas: 3, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
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
    await cluster.waitForLeader('p0', { timeoutMs: 6 * SESSION_TIMEOUT_MS });
    await cluster.waitForIsr('p0', 3, { timeoutMs: 30_000 });
    restartTimes.push(Date.now() - restartedAt);
    // The restarted partition takes writes again.
    await waitFor(() => writers.ackedSince(cycle + 0.5) >= 50, { timeoutMs: 20_000, what: `writes acknowledged after restart ${cycle}` });
    t.diagnostic(`cycle ${cycle}: ${ackedBeforeRestart} acked before the kill; back with a leader and a full in-sync set ${restartTimes.at(-1)} ms after the restart began`);
  }
  await writers.stop();
  t.diagnostic(`${writers.acked.length} of ${writers.attempts} writes acknowledged over ${CYCLES} kill/restart cycles`);

  await assertAllReadable(gate, writers.acked);

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
  t.diagnostic(`restart to full in-sync set: ${restartTimes.join(', ')} ms`);
});

test('disk use stays a small multiple of the live data when the same 10,000 keys are written 100 times', async (t) => {
  const KEYS = 10_000;
  const ROUNDS = 100;
  const VALUE_BYTES = 100;
  const BATCH = 100;
  const cluster = await startCluster({ name: 'disk-use', partitions: 1, replicas: 1, serverArgs: ['--fsync', 'off'] });
  t.after(() => cluster.stop());
  const server = [...cluster.servers.values()][0]!;
  const startedAt = Date.now();

  // The write path is the server's own: batched by concurrency, every put acknowledged.
  const valueOf = (round: number) => (n: number) => `${round}:${n}:`.padEnd(VALUE_BYTES, 'x');
  const timeBudgetMs = 45_000;
  let rounds = 0;
  for (let round = 0; round < ROUNDS && Date.now() - startedAt < timeBudgetMs; round++) {
    await putManyKeys(server.url, KEYS, valueOf(round), BATCH);
    rounds++;
  }
  const elapsed = Date.now() - startedAt;
  const live = KEYS * VALUE_BYTES;
  const used = diskUse(dataDirOf(server));
  const ratio = used / live;
  t.diagnostic(`${rounds} rounds × ${KEYS} keys × ${VALUE_BYTES} B in ${elapsed} ms (${Math.round((rounds * KEYS) / (elapsed / 1000))} puts/s): data dir ${used} B for ${live} B live = ${ratio.toFixed(2)}×`);
  assert.ok(rounds >= 20, `only ${rounds} rounds of overwrites fit in the time budget`);
  assert.ok(ratio <= 10, `the data dir uses ${ratio.toFixed(2)}× the live data`);

  // And the last round is what is there.
  const sample = Array.from({ length: 200 }, (_, i) => i * 50);
  await assertAllReadable(server.url, sample.map((n) => ({ key: `disk-${n}`, value: valueOf(rounds - 1)(n), version: 0, round: 0 })));
});

/** One round: KEYS puts to disk-<n>, `concurrency` in flight. */
async function putManyKeys(url: string, keys: number, valueOf: (n: number) => string, concurrency: number): Promise<void> {
  await putMany(url, 'disk', keys, valueOf, concurrency);
}
