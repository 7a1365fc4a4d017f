import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { placeSlots, type MigrationView } from '@kvstore/protocol';
import { privateZooKeeper, request, startCluster, waitFor, type TestCluster, type TestServer, type ZooKeeperHandle } from '@kvstore/testkit';
import { startWorkload, summary, waitUntilUnderWay, type Workload } from './reshard-support';

/**
 * Faults in the middle of moves, on one cluster (and a ZooKeeper of its
 * own, which one case kills) that starts with four partitions and shrinks
 * and grows through the cases, in order. The faults strike removals: a
 * removal sends one batch to each destination, one after the other, and
 * the copy is throttled (--migration-rate) so that the source sleeps a
 * second or two after each batch: "some slots moved, not all" lasts long
 * enough to strike. (A growth sends one batch from each source, at the
 * same time, and ends with the last: there is no such moment to wait for.)
 * Then whole partitions go down (every replica SIGKILLed) as the
 * destination of a growth, its source, and the first destination of a
 * removal. The clients may see errors around a fault, never an answer
 * that contradicts an acknowledged write.
 */
describe('resharding through faults in the middle of a move', () => {
  let zookeeper: ZooKeeperHandle;
  let cluster: TestCluster;
  let gate: string;
  let workload: Workload;

  before(async () => {
    zookeeper = await privateZooKeeper();
    cluster = await startCluster({
      zookeeper,
      name: 'reshard-faults',
      partitions: 4,
      replicas: 2,
      sessionTimeoutMs: 3000,
      // Partitions join here through the admin route only: with --join auto, a replica of a partition being
      // removed that restarts once the removal is over adds its partition back (reshard-rejoin.test.ts).
      serverArgs: ['--migration-rate', '30', '--join', 'manual'],
    });
    gate = cluster.gateUrls[0]!;
    workload = await startWorkload(gate, { clients: 6, keysEach: 12, loadedKeys: 600 });
    await workload.waitForWrites(50);
  });

  after(async () => {
    await workload?.stop();
    await cluster?.stop();
    await zookeeper?.stop();
  });

  /** Starts the removal of `partition`; returns it once it has moved some of its slots, not all. */
  async function removeMidMove(partition: string): Promise<MigrationView> {
    const answer = await request('DELETE', `${gate}/v1/admin/partitions/${partition}`);
    assert.equal(answer.status, 202, answer.body.toString());
    return waitUntilUnderWay(cluster, (answer.json as MigrationView).id);
  }

  async function add(partition: string): Promise<MigrationView> {
    const answer = await request('POST', `${gate}/v1/admin/partitions/${partition}`);
    assert.equal(answer.status, 202, answer.body.toString());
    return answer.json as MigrationView;
  }

  /** Waits for the migration to be done, then for the clients to be served again; fails on any answer that contradicts an acknowledged write so far. */
  async function finish(id: string): Promise<MigrationView> {
    const view = await cluster.waitForMigration((current) => current.state === 'done' || current.state === 'aborted', { id, what: `migration ${id} to end` });
    assert.equal(view.state, 'done', JSON.stringify(view));
    await workload.waitForWrites(30);
    assert.deepEqual(workload.violations.kept, []);
    return view;
  }

  /** Destinations of the migration's slots, split by whether they have received some already. */
  async function destinations(): Promise<{ received: string[]; pending: string[] }> {
    const { ring, migration } = await cluster.slotRecords();
    assert.ok(migration);
    const received = new Set<string>();
    const pending = new Set<string>();
    migration.target.forEach((goal, slot) => {
      if (goal === migration.original[slot]) return;
      const target = migration.names[goal]!;
      (ring.ownerOfSlot(slot) === target ? received : pending).add(target);
    });
    return { received: [...received].sort(), pending: [...pending].filter((name) => !received.has(name)).sort() };
  }

  /** SIGKILLs every replica of `partition` and waits until the gate sees it without a leader; returns them, to restart. */
  async function killPartition(partition: string): Promise<TestServer[]> {
    const dead = cluster.replicasOf(partition);
    await Promise.all(dead.map((server) => server.process.kill()));
    await waitFor(async () => (await cluster.leaderOf(partition)) === undefined, { timeoutMs: 20_000, what: `${partition} to have no leader` });
    return dead;
  }

  async function killLeader(partition: string): Promise<TestServer> {
    const leader = await cluster.waitForLeader(partition);
    await leader.process.kill();
    return leader;
  }

  it('the source partition leader is killed: its successor carries on, and the restarted one catches up', async () => {
    const view = await removeMidMove('p3');
    const killed = await killLeader('p3');
    await cluster.waitForLeader('p3', { not: killed.id });
    await cluster.restartServer(killed.id);
    await finish(view.id);
    assert.deepEqual((await cluster.ring()).partitions, ['p0', 'p1', 'p2']);
  });

  it('destination leaders are killed, one that has received slots and one still waiting for them: the move waits for their successors', async () => {
    const view = await removeMidMove('p2');
    const { received, pending } = await destinations();
    assert.ok(received.length > 0 && pending.length > 0, `received ${received.join(',')}, pending ${pending.join(',')}`);
    const killed = await Promise.all([killLeader(received[0]!), killLeader(pending[0]!)]);
    await Promise.all(killed.map((server) => cluster.waitForLeader(server.partition, { not: server.id })));
    await Promise.all(killed.map((server) => cluster.restartServer(server.id)));
    await finish(view.id);
    assert.deepEqual((await cluster.ring()).partitions, ['p0', 'p1']);
  });

  it('a destination with no live replica blocks the moves to it (shown as blocked); restarted, the moves complete', async () => {
    const errorsBefore = workload.errors.count;
    const dead = await killPartition('p3');
    const started = await add('p3');
    const blocked = await cluster.waitForMigration((view) => view.blocked.length === 3, { id: started.id, what: 'both sources to say they are blocked' });
    // The sources say why they wait; the destination without a leader is named itself.
    assert.deepEqual(blocked.blocked.map((entry) => entry.partition), ['p0', 'p1', 'p3']);
    for (const entry of blocked.blocked) assert.match(entry.reason, /p3/);
    assert.equal(blocked.slotsMoved, 0);
    // Meanwhile the keys stay where they are, and are served.
    await workload.waitForWrites(30);
    for (const server of dead) await cluster.restartServer(server.id);
    const view = await finish(started.id);
    assert.deepEqual(view.blocked, []);
    assert.equal((await cluster.ring()).slotCounts().get('p3'), view.slotsTotal);
    assert.equal(workload.errors.count, errorsBefore, `no client saw an error: ${workload.errors.kept.slice(-5).join('; ')}`);
  });

  it('the gate is killed and restarted: the move goes on without it, and the new gate routes by the table as it is now', async () => {
    const view = await removeMidMove('p3');
    await cluster.gates[0]!.kill();
    await cluster.restartGate(0);
    await finish(view.id);
    assert.deepEqual((await cluster.ring()).partitions, ['p0', 'p1']);
  });

  it('a source with no live replica holds its slots, and the view says it is blocked; restarted, it moves them', async () => {
    const dead = await killPartition('p1');
    const started = await add('p2');
    // p0 moves its slots; p1 cannot: the migration stays short of its target while p1 is down.
    await cluster.waitForMigration((view) => view.slotsMoved > 0, { id: started.id, what: 'p0 to move its slots to p2' });
    const shown = await cluster.waitForMigration((view) => view.blocked.some((source) => source.partition === 'p1'), {
      id: started.id,
      timeoutMs: 8000,
      what: 'the view to name p1 blocked',
    }).catch((error: Error) => error);
    for (const server of dead) await cluster.restartServer(server.id);
    await finish(started.id);
    assert.ok(!(shown instanceof Error), `a source with no leader is not shown blocked: ${shown instanceof Error ? shown.message : ''}`);
  });

  it('ZooKeeper is killed and restarted: the move resumes once it is back', async () => {
    const view = await removeMidMove('p2');
    await zookeeper.kill();
    await zookeeper.restart();
    await finish(view.id);
    assert.deepEqual((await cluster.ring()).partitions, ['p0', 'p1']);
  });

  it('a removal whose first destination has no live replica still moves the slots bound for the other one', async () => {
    await finish((await add('p3')).id);
    // The source sends its slots in slot order: the first one's destination is the one it would wait for.
    const firstSlot = (await cluster.ring()).slotOwners().indexOf('p3');
    const target = placeSlots(['p0', 'p1'])[firstSlot]!;
    const other = target === 'p0' ? 'p1' : 'p0';
    const dead = await killPartition(target);
    const answer = await request('DELETE', `${gate}/v1/admin/partitions/p3`);
    assert.equal(answer.status, 202, answer.body.toString());
    const id = (answer.json as MigrationView).id;
    const moved = await cluster.waitForMigration((view) => view.slotsMoved > 0, { id, timeoutMs: 8000, what: `p3 to move slots to ${other}` }).catch((error: Error) => error);
    for (const server of dead) await cluster.restartServer(server.id);
    await finish(id);
    assert.ok(!(moved instanceof Error), `with ${target} down, no slot moved to ${other} either: ${moved instanceof Error ? moved.message : ''}`);
  });

  it('at the end, every key holds what its last acknowledged write left', async (t) => {
    await workload.stop();
    const { keys } = await workload.verify();
    t.diagnostic(`${summary(workload)}; ${keys} keys checked`);
    if (workload.errors.count > 0) t.diagnostic(`errors (expected around the faults): ${workload.errors.kept.join('\n')}`);
    assert.deepEqual(workload.violations.kept, []);
  });
});
