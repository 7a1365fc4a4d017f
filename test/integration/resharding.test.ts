import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ZkSession } from '@kvstore/cluster';
import { clusterPaths, parseMigration, parseRing, Ring, type MigrationRecord } from '@kvstore/protocol';
import { del, get, put, startCluster, waitFor, type TestCluster } from '@kvstore/testkit';

/**
 * Clients that each own a few keys (so each knows exactly what its keys
 * must hold): they write, delete, compare-and-set and read them strongly
 * while the cluster reshards. A strong read that disagrees with the last
 * acknowledged write of its own key, or an answer other than the expected
 * ones, is recorded.
 */
function startClients(gate: string, clients: number, keysEach: number) {
  const problems: string[] = [];
  const expected = new Map<string, string | null>();
  let running = true;
  let ops = 0;
  const loops = Array.from({ length: clients }, async (_, client) => {
    const keys = Array.from({ length: keysEach }, (_, n) => `c${client}-k${n}`);
    const uncertain = new Set<string>();
    for (let round = 0; running; round++) {
      const key = keys[round % keys.length]!;
      const value = `${key}@${round}`;
      const choice = round % 5;
      ops++;
      try {
        if (choice === 0 || choice === 1) {
          const answer = await put(gate, key, value, { timeoutMs: 8000 });
          if (answer.status === 200) {
            expected.set(key, value);
            uncertain.delete(key);
          } else {
            uncertain.add(key);
            problems.push(`PUT ${key}: ${answer.status} ${answer.body.toString()}`);
          }
        } else if (choice === 2) {
          const answer = await del(gate, key, { timeoutMs: 8000 });
          if (answer.status === 200) {
            expected.set(key, null);
            uncertain.delete(key);
          } else {
            uncertain.add(key);
            problems.push(`DELETE ${key}: ${answer.status} ${answer.body.toString()}`);
          }
        } else {
          const answer = await get(gate, key, { consistency: 'strong', timeoutMs: 8000 });
          if (answer.status !== 200 && answer.status !== 404) {
            problems.push(`GET ${key}: ${answer.status} ${answer.body.toString()}`);
            continue;
          }
          const seen = answer.status === 200 ? answer.body.toString() : null;
          if (!uncertain.has(key) && expected.has(key) && seen !== expected.get(key)) {
            problems.push(`GET ${key}: ${JSON.stringify(seen)}, but the last acknowledged write was ${JSON.stringify(expected.get(key))}`);
          }
          if (choice === 4 && answer.status === 200) {
            // Compare-and-set on the version just read: it must hold unless this client wrote since (it did not).
            const version = answer.headers.get('etag')!;
            const cas = await put(gate, key, `${value}-cas`, { headers: { 'if-match': version }, timeoutMs: 8000 });
            if (cas.status === 200) {
              expected.set(key, `${value}-cas`);
              uncertain.delete(key);
            } else if (!uncertain.has(key)) {
              uncertain.add(key);
              problems.push(`CAS ${key} at ${version}: ${cas.status} ${cas.body.toString()}`);
            }
          }
        }
      } catch (error) {
        uncertain.add(key);
        problems.push(`${key}: ${(error as Error).message}`);
      }
    }
  });
  return {
    problems,
    expected,
    get ops() {
      return ops;
    },
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function readZk<T>(cluster: TestCluster, read: (session: ZkSession) => Promise<T>): Promise<T> {
  const session = await ZkSession.connect(cluster.zookeeper.connectString, { sessionTimeoutMs: 5000 });
  try {
    return await read(session);
  } finally {
    session.close();
  }
}

async function migrationOf(cluster: TestCluster): Promise<MigrationRecord | undefined> {
  return readZk(cluster, async (session) => {
    const node = await session.getData(clusterPaths(cluster.name).migration);
    return node && parseMigration(node.data);
  });
}

async function ringOf(cluster: TestCluster): Promise<Ring> {
  return readZk(cluster, async (session) => new Ring(parseRing((await session.getData(clusterPaths(cluster.name).ring))!.data)));
}

test('a loaded 2-partition cluster grows to 3 by starting p2: about a third of the slots move, nothing is lost, no client sees an error', async () => {
  const cluster = await startCluster({ partitions: 2, name: 'reshard' });
  try {
    const gate = cluster.gateUrls[0]!;
    const clients = startClients(gate, 8, 40);
    await waitFor(async () => clients.ops > 400 || undefined, { timeoutMs: 30_000, what: 'load before the move' });
    const before = await ringOf(cluster);
    assert.ok(before.sealed, 'the first write sealed the ring');

    await cluster.startPartition('p2');
    const migration = await waitFor(
      async () => {
        const record = await migrationOf(cluster);
        return record?.state === 'done' ? record : undefined;
      },
      { timeoutMs: 60_000, what: 'the migration that adds p2 to finish' },
    );
    assert.equal(migration.kind, 'add');
    assert.equal(migration.partition, 'p2');
    const opsAtEnd = clients.ops;
    await waitFor(async () => clients.ops > opsAtEnd + 200 || undefined, { timeoutMs: 30_000, what: 'load after the move' });
    await clients.stop();

    const after = await ringOf(cluster);
    const owned = after.slotCounts().get('p2')!;
    assert.ok(owned > 4096 * 0.2 && owned < 4096 * 0.45, `p2 owns ${owned} slots`);
    assert.deepEqual(clients.problems, []);
    let onP2 = 0;
    for (const [key, value] of clients.expected) {
      const answer = await get(gate, key, { consistency: 'strong' });
      assert.equal(answer.status === 200 ? answer.body.toString() : null, value, `key ${key}`);
      if (answer.headers.get('x-kv-partition') === 'p2') onP2++;
    }
    assert.ok(onP2 > 0, 'some keys are served by p2');
  } finally {
    await cluster.stop();
  }
});
