import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, internalGet, put, startCluster, waitFor, type TestCluster } from '@kvstore/testkit';

const SESSION_TIMEOUT_MS = 2000;

interface Ack {
  key: string;
  value: string;
  partition: string;
  startedAt: number;
  at: number;
}

/** Writers that each put fresh keys until stopped, remembering every acknowledged write. */
function startWriters(gate: string, count: number, prefix: string) {
  const acked: Ack[] = [];
  let running = true;
  let attempts = 0;
  const loops = Array.from({ length: count }, async (_, writer) => {
    for (let n = 0; running; n++) {
      const key = `${prefix}-${writer}-${n}`;
      const startedAt = Date.now();
      const value = `${key}@${startedAt}`;
      attempts++;
      try {
        const result = await put(gate, key, value, { timeoutMs: 5000 });
        if (result.status === 200) acked.push({ key, value, partition: result.headers.get('x-kv-partition')!, startedAt, at: Date.now() });
      } catch {
        // Outcome unknown: not acknowledged, so nothing is promised about it.
      }
    }
  });
  return {
    acked,
    get attempts() {
      return attempts;
    },
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function assertAllReadable(gate: string, acked: readonly Ack[]): Promise<void> {
  for (let start = 0; start < acked.length; start += 64) {
    await Promise.all(
      acked.slice(start, start + 64).map(async ({ key, value }) => {
        const read = await get(gate, key);
        assert.equal(read.status, 200, `acknowledged write ${key} is lost (${read.status} ${read.body})`);
        assert.equal(read.body.toString(), value, `acknowledged write ${key} reads back wrong`);
      }),
    );
  }
}

async function leaderId(cluster: TestCluster, partition: string): Promise<string> {
  return (await cluster.waitForLeader(partition)).id;
}

test('SIGKILL of a leader during concurrent writes loses no acknowledged write', async (t) => {
  const cluster = await startCluster({ name: 'kill-leader', sessionTimeoutMs: SESSION_TIMEOUT_MS, persistent: false });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const victim = await leaderId(cluster, 'p0');
  const writers = startWriters(gate, 8, 'kill');
  await waitFor(() => writers.acked.filter((a) => a.partition === 'p0').length >= 200, { timeoutMs: 20_000, what: '200 writes to p0' });

  const killedAt = Date.now();
  await cluster.servers.get(victim)!.process.kill();
  const successor = await cluster.waitForLeader('p0', { not: victim, timeoutMs: 4 * SESSION_TIMEOUT_MS });
  const startedAfterKill = (ack: Ack): boolean => ack.partition === 'p0' && ack.startedAt > killedAt;
  await waitFor(() => writers.acked.some(startedAfterKill), {
    timeoutMs: 4 * SESSION_TIMEOUT_MS,
    what: 'a write to p0, begun after the kill, acknowledged',
  });
  const firstWriteAfter = Math.min(...writers.acked.filter(startedAfterKill).map((a) => a.at));
  await waitFor(() => writers.acked.length > 0 && Date.now() - firstWriteAfter > 500, { what: 'writes under the new leader' });
  await writers.stop();

  t.diagnostic(`failover: ${successor.id} leads p0; first write begun after SIGKILL acknowledged ${firstWriteAfter - killedAt} ms after it (session timeout ${SESSION_TIMEOUT_MS} ms)`);
  t.diagnostic(`${writers.acked.length} of ${writers.attempts} writes acknowledged`);
  assert.ok(firstWriteAfter - killedAt < 2 * SESSION_TIMEOUT_MS + 2000, 'a new leader within twice the session timeout');
  await assertAllReadable(gate, writers.acked);
});

test('a restarted follower catches up and rejoins the in-sync set', async (t) => {
  const cluster = await startCluster({ name: 'restart-follower', partitions: 1, sessionTimeoutMs: SESSION_TIMEOUT_MS, persistent: false });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const leader = await leaderId(cluster, 'p0');
  const follower = [...cluster.servers.keys()].find((id) => id !== leader)!;

  for (let n = 0; n < 100; n++) assert.equal((await put(gate, `before-${n}`, `b${n}`)).status, 200);
  await cluster.servers.get(follower)!.process.kill();
  await cluster.waitForIsr('p0', 2, { timeoutMs: 4 * SESSION_TIMEOUT_MS });
  for (let n = 0; n < 100; n++) assert.equal((await put(gate, `while-down-${n}`, `w${n}`)).status, 200);

  const restarted = await cluster.restartServer(follower);
  await cluster.waitForIsr('p0', 3, { timeoutMs: 15_000 });
  const view = await cluster.clusterView();
  const members = view.partitions[0]!.members;
  const leaderSeq = members.find((m) => m.role === 'leader')!.lastSeq;
  await waitFor(async () => {
    const status = (await (await internalGet(restarted, '/internal/status')).json()) as { lastSeq: number };
    return status.lastSeq >= leaderSeq!;
  }, { what: 'the restarted follower to reach the leader' });
  for (let n = 0; n < 100; n++) {
    const read = await get(restarted.url, `while-down-${n}`, { consistency: 'eventual' });
    assert.equal(read.body.toString(), `w${n}`, 'the follower serves what was written while it was down');
  }
});

test('a partition with no live replica answers 503 while the other partition keeps working', async (t) => {
  const cluster = await startCluster({ name: 'partition-down', sessionTimeoutMs: SESSION_TIMEOUT_MS, persistent: false });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const keysOf = new Map<string, string[]>([['p0', []], ['p1', []]]);
  for (let n = 0; keysOf.get('p0')!.length < 5 || keysOf.get('p1')!.length < 5; n++) {
    const written = await put(gate, `k${n}`, `v${n}`);
    keysOf.get(written.headers.get('x-kv-partition')!)!.push(`k${n}`);
  }
  await Promise.all([...cluster.servers.values()].filter((s) => s.partition === 'p1').map((s) => s.process.kill()));

  for (const key of keysOf.get('p1')!) {
    const read = await get(gate, key);
    assert.equal(read.status, 503, `a key of the dead partition: ${read.status} ${read.body}`);
    assert.equal((read.json as { error: { code: string } }).error.code, 'UNAVAILABLE');
    assert.equal(read.headers.get('x-kv-partition'), 'p1', 'never rerouted to another partition');
    assert.equal((await put(gate, key, 'new')).status, 503);
  }
  for (const key of keysOf.get('p0')!) {
    assert.equal((await get(gate, key)).status, 200);
    assert.equal((await put(gate, key, 'still writable')).status, 200);
  }

  // Memory replicas that all restart hold nothing: they elect a leader among themselves and serve again.
  for (const server of [...cluster.servers.values()].filter((s) => s.partition === 'p1')) await cluster.restartServer(server.id);
  await cluster.waitForIsr('p1', 3, { timeoutMs: 20_000 });
  assert.equal((await put(gate, keysOf.get('p1')![0]!, 'back')).status, 200);
});

test('SIGTERM of a leader hands leadership over at once and exits 0, losing nothing', async (t) => {
  // A long session timeout: a handover that waited for the session to expire would show.
  const cluster = await startCluster({ name: 'sigterm', partitions: 1, sessionTimeoutMs: 20_000, persistent: false });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const victim = await leaderId(cluster, 'p0');
  const writers = startWriters(gate, 4, 'term');
  await waitFor(() => writers.acked.length >= 100, { timeoutMs: 20_000, what: '100 writes' });
  const stoppedAt = Date.now();
  const exit = await cluster.servers.get(victim)!.process.stop(10_000);
  const successor = await cluster.waitForLeader('p0', { not: victim, timeoutMs: 5000 });
  const handoverMs = Date.now() - stoppedAt;
  await writers.stop();
  t.diagnostic(`SIGTERM handover to ${successor.id} in ${handoverMs} ms (session timeout 20000 ms); exit ${JSON.stringify(exit)}`);
  assert.equal(exit.code, 0);
  assert.ok(handoverMs < 5000, 'a clean handover does not wait for the session to expire');
  await assertAllReadable(gate, writers.acked);
});

test('a paused (SIGSTOP) follower is dropped from the in-sync set, writes keep flowing, and it rejoins after SIGCONT', async (t) => {
  const cluster = await startCluster({ name: 'pause-follower', partitions: 1, sessionTimeoutMs: 10_000, persistent: false });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const leader = await leaderId(cluster, 'p0');
  const follower = [...cluster.servers.values()].find((s) => s.id !== leader)!;
  follower.process.pause();
  const pausedAt = Date.now();
  const first = await put(gate, 'after-pause', 'v');
  t.diagnostic(`first write with a paused follower: ${first.status} after ${Date.now() - pausedAt} ms`);
  const acked: string[] = [];
  for (let n = 0; n < 50; n++) if ((await put(gate, `while-paused-${n}`, `p${n}`)).status === 200) acked.push(`while-paused-${n}`);
  assert.equal(acked.length, 50, 'writes keep flowing without the paused follower');
  const view = await cluster.clusterView();
  assert.ok(!view.partitions[0]!.isr.includes(follower.id), 'the paused follower left the in-sync set');
  follower.process.resume();
  await cluster.waitForIsr('p0', 3, { timeoutMs: 15_000 });
  for (const key of acked) assert.equal((await get(follower.url, key, { consistency: 'eventual' })).status, 200);
});

test('a leader paused past its session is deposed: after SIGCONT it serves no strong read and commits nothing', async (t) => {
  const cluster = await startCluster({ name: 'pause-leader', partitions: 1, sessionTimeoutMs: SESSION_TIMEOUT_MS, persistent: false });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const zombie = cluster.servers.get(await leaderId(cluster, 'p0'))!;
  assert.equal((await put(gate, 'k', 'old')).status, 200);
  zombie.process.pause();
  const successor = await cluster.waitForLeader('p0', { not: zombie.id, timeoutMs: 4 * SESSION_TIMEOUT_MS });
  assert.equal((await put(gate, 'k', 'new')).status, 200);
  zombie.process.resume();
  // Straight to the zombie, before it has heard from ZooKeeper: it must not answer from its old term.
  const [read, write] = await Promise.all([get(zombie.url, 'k'), put(zombie.url, 'zombie-write', 'x')]);
  assert.notEqual(read.status, 200, `the deposed leader served a strong read: ${read.body}`);
  assert.notEqual(write.status, 200, 'the deposed leader acknowledged a write');
  assert.equal((await get(gate, 'k')).body.toString(), 'new');
  assert.equal((await get(gate, 'zombie-write')).status, 404);
  t.diagnostic(`new leader ${successor.id}; the zombie answered read ${read.status}, write ${write.status}`);
  await cluster.waitForIsr('p0', 3, { timeoutMs: 15_000 });
});
