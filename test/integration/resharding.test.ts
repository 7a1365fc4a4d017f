import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLOT_COUNT, type MigrationView, type Ring } from '@kvstore/protocol';
import { request, runKvctl, startCluster, type TestCluster } from '@kvstore/testkit';
import { slotsMoved, startWorkload, summary } from './reshard-support';

/** About 1/n of the slots: consistent hashing of 4096 slots over a few partitions is within a third of the even share. */
function assertAboutShare(count: number, n: number, what: string): void {
  const share = SLOT_COUNT / n;
  assert.ok(count > share * 0.66 && count < share * 1.34, `${what}: ${count} slots, about ${Math.round(share)} expected`);
}

/** Runs `begin`, which starts a migration, and waits for that migration to end; returns its view and the table before and after. */
async function migrate(cluster: TestCluster, what: string, begin: () => Promise<unknown>): Promise<{ view: MigrationView; before: Ring; after: Ring }> {
  const { ring: before, migration: previous } = await cluster.slotRecords();
  await begin();
  const view = await cluster.waitForMigration((current) => current.id !== previous?.id && (current.state === 'done' || current.state === 'aborted'), {
    what: `the migration that ${what} to end`,
  });
  assert.equal(view.state, 'done', `the migration that ${what}`);
  assert.deepEqual(view.blocked, []);
  return { view, before, after: await cluster.ring() };
}

test('a loaded 2-partition cluster grows to 3, then 4, and shrinks back to 2 under 8 clients: each step moves about 1/N of the slots, nothing is lost, no client sees an error', async (t) => {
  // A batch's cut-over (fence to flip) took 0.2 to 0.9 s on a 2-core machine under a full test load, and
  // writes to its slots wait that long in the gate: the default 1 s --write-timeout left no margin.
  const cluster = await startCluster({ partitions: 2, name: 'reshard', writeTimeoutMs: 3000 });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const workload = await startWorkload(gate, { clients: 8, keysEach: 24, loadedKeys: 1000 });
  t.after(() => workload.stop());
  await workload.waitForWrites(100);
  const start = await cluster.ring();
  assert.ok(start.sealed, 'the first write sealed the ring');

  for (const [partition, n] of [['p2', 3], ['p3', 4]] as const) {
    const { view, before, after } = await migrate(cluster, `adds ${partition}`, () => cluster.startPartition(partition));
    t.diagnostic(`${partition} joined: ${view.slotsMoved} slots, ${view.keysMoved} keys, worst pause ${view.pauseMsMax} ms`);
    assert.deepEqual([view.kind, view.partition], ['add', partition]);
    const moved = slotsMoved(before, after);
    assert.deepEqual([...moved.keys()], [partition], 'slots move only to the new partition');
    assertAboutShare(moved.get(partition)!, n, `${partition} joining`);
    assert.equal(view.slotsMoved, moved.get(partition));
    assert.equal(after.slotCounts().get(partition), moved.get(partition));
    await workload.waitForWrites(50);
  }

  // p3 leaves through the gate's admin route, p2 through kvctl (which follows it to the end).
  const removals: [string, number, () => Promise<unknown>][] = [
    [
      'p3',
      4,
      async () => {
        const answer = await request('DELETE', `${gate}/v1/admin/partitions/p3`);
        assert.equal(answer.status, 202, answer.body.toString());
      },
    ],
    [
      'p2',
      3,
      async () => {
        const host = ['--host', gate.replace('http://', '')];
        const started = await runKvctl([...host, 'cluster', 'remove-partition', 'p2']);
        assert.equal(started.code, 0, started.stderr);
        const watched = await runKvctl([...host, 'migration', 'status', '--watch', '--interval', '200']);
        assert.equal(watched.code, 0, watched.stderr);
        assert.match(watched.stdout.toString(), /done/);
      },
    ],
  ];
  for (const [partition, n, begin] of removals) {
    const { view, before, after } = await migrate(cluster, `removes ${partition}`, begin);
    t.diagnostic(`${partition} left: ${view.slotsMoved} slots, ${view.keysMoved} keys, worst pause ${view.pauseMsMax} ms`);
    assert.deepEqual([view.kind, view.partition], ['remove', partition]);
    const moved = slotsMoved(before, after);
    assert.equal([...moved.values()].reduce((sum, count) => sum + count, 0), before.slotCounts().get(partition), `only ${partition}'s slots move`);
    assertAboutShare(before.slotCounts().get(partition)!, n, `${partition} leaving`);
    assert.ok(!after.has(partition), `${partition} is off the ring once the migration is done`);
    await cluster.stopPartition(partition);
    await workload.waitForWrites(50);
  }
  const end = await cluster.ring();
  assert.deepEqual(end.slotOwners(), start.slotOwners(), 'back on p0 and p1, every slot is where it started');
  assert.deepEqual((await cluster.clusterView()).ring.slots, Object.fromEntries(end.slotCounts()), "the gate's view counts the same slots");

  await workload.stop();
  const { keys } = await workload.verify();
  t.diagnostic(`${summary(workload)}; ${keys} keys checked`);
  assert.deepEqual(workload.violations.kept, []);
  assert.deepEqual(workload.errors.kept, []);
});
