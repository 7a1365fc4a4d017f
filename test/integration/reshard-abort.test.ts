import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeSlots, slotOf, type MigrationView } from '@kvstore/protocol';
import { get, request, startCluster } from '@kvstore/testkit';
import { startWorkload, summary, waitUntilUnderWay } from './reshard-support';

/** More than one batch (about 2000 keys): the source sends them in two, and sleeps between them at the migration rate. */
const KEYS_TO_P2 = 2300;
/** Keys per second: the source sleeps about 4 s after its first batch. */
const MIGRATION_RATE = 500;

test('an abort in the middle of a growth moves back what moved: the migration ends aborted, the table is where it started, nothing is lost', async (t) => {
  const cluster = await startCluster({ name: 'reshard-abort', partitions: 2, replicas: 2, serverArgs: ['--migration-rate', String(MIGRATION_RATE)] });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const before = await cluster.ring();
  // Keys that p0 holds and would give p2: p0 sends them in two batches, seconds apart, in which to abort.
  const after = placeSlots(['p0', 'p1', 'p2']);
  const moving: string[] = [];
  for (let n = 0; moving.length < KEYS_TO_P2; n++) {
    const slot = slotOf(`to-p2-${n}`);
    if (before.ownerOfSlot(slot) === 'p0' && after[slot] === 'p2') moving.push(`to-p2-${n}`);
  }
  const workload = await startWorkload(gate, { clients: 6, keysEach: 16, loadedKeys: moving });
  t.after(() => workload.stop());
  await workload.waitForWrites(50);

  await cluster.startPartition('p2', 2);
  const migration = await cluster.waitForMigration((view) => view.kind === 'add' && view.partition === 'p2', { what: 'p2 to start joining' });
  const underWay = await waitUntilUnderWay(cluster, migration.id);
  const aborted = await request('POST', `${gate}/v1/admin/migration/abort`);
  assert.equal(aborted.status, 202, aborted.body.toString());
  assert.equal((aborted.json as MigrationView).state, 'aborting');

  const view = await cluster.waitForMigration((current) => current.state === 'aborted' || current.state === 'done', { id: migration.id, what: 'the abort to end' });
  assert.equal(view.state, 'aborted');
  const ring = await cluster.ring();
  assert.deepEqual(ring.slotOwners(), before.slotOwners(), `every slot is back where it was (${underWay.slotsMoved} of ${underWay.slotsTotal} had moved)`);
  assert.deepEqual(ring.partitions, ['p0', 'p1'], 'p2, which owns nothing, is off the ring');
  await workload.waitForWrites(50);

  await workload.stop();
  const { keys } = await workload.verify();
  t.diagnostic(`${summary(workload)}; ${keys} keys checked; ${underWay.slotsMoved} of ${underWay.slotsTotal} slots had moved at the abort`);
  assert.deepEqual(workload.violations.kept, []);
  assert.deepEqual(workload.errors.kept, []);
  const served = await get(gate, moving[0]!, { consistency: 'strong' });
  assert.equal(served.headers.get('x-kv-partition'), 'p0', 'the keys that went to p2 and back are served by p0');
});
