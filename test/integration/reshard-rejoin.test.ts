import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MigrationView } from '@kvstore/protocol';
import { put, request, startCluster, waitFor } from '@kvstore/testkit';

/**
 * A replica of a partition being removed crashes, and its supervisor starts
 * it again once the removal is over. It must not undo the removal: its data
 * dir says the partition was on the ring and gave its slots away; `--join
 * auto` is for a new partition.
 */
test('a replica of a removed partition that crashed during the removal and restarts after it does not add the partition back', async (t) => {
  const cluster = await startCluster({ name: 'reshard-rejoin', partitions: 3, replicas: 2 });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  for (let n = 0; n < 50; n++) assert.equal((await put(gate, `rejoin-${n}`, `v${n}`)).status, 200);

  const leader = await cluster.waitForLeader('p2');
  const follower = cluster.replicasOf('p2').find((server) => server.id !== leader.id)!;
  const removal = await request('DELETE', `${gate}/v1/admin/partitions/p2`);
  assert.equal(removal.status, 202, removal.body.toString());
  const { id } = removal.json as MigrationView;
  await follower.process.kill();
  await cluster.waitForMigration((view) => view.state === 'done', { id, what: 'the removal of p2 to be done' });

  await cluster.restartServer(follower.id);
  await waitFor(async () => (await request('GET', `${follower.url}/readyz`)).status === 200, { what: `${follower.id} to be ready` });
  // Whatever it does about the ring, it does on start: a few seconds are plenty to see it.
  const rejoin = await cluster
    .waitForMigration((view) => view.id !== id, { timeoutMs: 5000, what: 'a migration after the removal' })
    .catch(() => undefined);
  assert.equal(rejoin, undefined, `restarted, ${follower.id} started migration ${rejoin?.id} (${rejoin?.kind} ${rejoin?.partition})`);
  assert.ok(!(await cluster.ring()).has('p2'), 'p2 stays off the ring');
});
