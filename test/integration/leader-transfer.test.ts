import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, put, runKvctl, startCluster, waitFor } from '@kvstore/testkit';

/** Writers that put fresh keys until stopped; every answer that is not a 200 is a client error. */
function startWriters(gate: string, count: number) {
  const acked = new Map<string, string>();
  const errors: string[] = [];
  let running = true;
  const loops = Array.from({ length: count }, async (_, writer) => {
    for (let n = 0; running; n++) {
      const key = `transfer-${writer}-${n}`;
      const value = `${key}@${Date.now()}`;
      try {
        const result = await put(gate, key, value, { timeoutMs: 10_000 });
        if (result.status === 200) acked.set(key, value);
        else errors.push(`${key}: ${result.status} ${result.body.toString()}`);
      } catch (error) {
        errors.push(`${key}: ${(error as Error).message}`);
      }
    }
  });
  return {
    acked,
    errors,
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}

test('leader-transfer and remove-member against a real cluster', async (t) => {
  const cluster = await startCluster({ name: 'transfer', partitions: 1, replicas: 3, minInsync: 2, persistent: false });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const host = gate.replace('http://', '');
  const kvctl = (...args: string[]) => runKvctl(['--host', host, ...args]);
  const isr = async (): Promise<string[]> => (await cluster.clusterView()).partitions[0]!.isr;

  await t.test('a transfer under writes from several clients: no client error, no acknowledged write lost, the target leads', async () => {
    const before = (await cluster.waitForLeader('p0')).id;
    const target = cluster.replicasOf('p0').find((server) => server.id !== before)!.id;
    const writers = startWriters(gate, 6);
    await waitFor(() => writers.acked.size >= 200, { timeoutMs: 20_000, what: '200 writes before the transfer' });
    const run = await kvctl('cluster', 'leader-transfer', 'p0', '--to', target);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout.toString(), new RegExp(`p0: ${target} leads \\(epoch \\d+\\), handed over by ${before}`));
    const atTransfer = writers.acked.size;
    await waitFor(() => writers.acked.size >= atTransfer + 200, { timeoutMs: 20_000, what: '200 writes after the transfer' });
    await writers.stop();
    assert.deepEqual(writers.errors, [], 'no client saw an error');
    assert.equal((await cluster.leaderOf('p0'))?.id, target);
    for (const [key, value] of writers.acked) {
      const read = await get(gate, key);
      assert.equal(read.status, 200, `acknowledged write ${key} is lost`);
      assert.equal(read.body.toString(), value);
    }
  });

  await t.test('a transfer with no target named goes to another in-sync replica (JSON output)', async () => {
    const before = (await cluster.waitForLeader('p0')).id;
    await cluster.waitForIsr('p0', 3);
    const run = await kvctl('cluster', 'leader-transfer', 'p0', '--json');
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout.toString()) as { partition: string; from: string; to: string; epoch: number };
    assert.equal(result.from, before);
    assert.notEqual(result.to, before);
    assert.equal((await cluster.leaderOf('p0'))?.id, result.to);
  });

  await t.test('remove-member keeps a follower out of the in-sync set while it is stopped and after; restore-member lets it back', async () => {
    const leader = (await cluster.waitForLeader('p0')).id;
    await cluster.waitForIsr('p0', 3);
    const [removed, other] = cluster.replicasOf('p0').filter((server) => server.id !== leader);

    const refused = await kvctl('cluster', 'remove-member', 'p0', leader);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /is the leader: move the lead first \(kvctl cluster leader-transfer\)/);

    const run = await kvctl('cluster', 'remove-member', 'p0', removed!.id);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await isr(), [leader, other!.id].sort());
    assert.deepEqual((await cluster.clusterView()).partitions[0]!.excluded, [removed!.id], 'the cluster view shows it removed');
    const belowMinimum = await kvctl('cluster', 'remove-member', 'p0', other!.id);
    assert.notEqual(belowMinimum.code, 0);
    assert.match(belowMinimum.stderr, /below --min-insync 2/);

    removed!.process.pause();
    try {
      for (let n = 0; n < 50; n++) {
        const started = Date.now();
        const result = await put(gate, `maintenance-${n}`, `m${n}`);
        assert.equal(result.status, 200, result.body.toString());
        // Not in the set: no write waits for the stopped replica to be dropped.
        assert.ok(Date.now() - started < 1000, `write ${n} took ${Date.now() - started} ms`);
      }
    } finally {
      removed!.process.resume();
    }
    await waitFor(async () => (await get(removed!.url, 'maintenance-49', { consistency: 'eventual' })).status === 200, { what: 'the removed replica to catch up' });
    assert.deepEqual(await isr(), [leader, other!.id].sort(), 'caught up, but not added back');

    const restored = await kvctl('cluster', 'restore-member', 'p0', removed!.id, '--json');
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual((JSON.parse(restored.stdout.toString()) as { excluded: string[] }).excluded, []);
    await cluster.waitForIsr('p0', 3);
    assert.equal((await cluster.clusterView()).partitions[0]!.excluded, undefined);
  });
});
