import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ZkSession } from '@kvstore/cluster';
import { clusterPaths, parseMember, parseState, type ClusterPaths, type StateRecord } from '@kvstore/protocol';
import { get, internalGet, put, request, startCluster, waitFor, type TestCluster } from '@kvstore/testkit';

const SESSION_TIMEOUT_MS = 2000;

interface Status {
  role: string;
  epoch: number;
}

/** What a hand in ZooKeeper needs: a session on the cluster's ZooKeeper and its paths. */
async function operator(cluster: TestCluster): Promise<{ zk: ZkSession; paths: ClusterPaths }> {
  const zk = await ZkSession.connect(cluster.zookeeper.connectString, { sessionTimeoutMs: 5000 });
  return { zk, paths: clusterPaths(cluster.name) };
}

async function overwrite(zk: ZkSession, path: string, data: Buffer | string): Promise<void> {
  const node = await zk.getData(path);
  assert.ok(node, `no node at ${path}`);
  await zk.setData(path, Buffer.from(data), node.version);
}

async function readyzMessage(url: string): Promise<string | undefined> {
  const answer = await request('GET', `${url}/readyz`);
  if (answer.status === 200) return undefined;
  return (answer.json as { error: { message: string } }).error.message;
}

async function writesAndReadsWork(gate: string, key: string): Promise<void> {
  const written = await put(gate, key, `value of ${key}`);
  assert.equal(written.status, 200, `PUT ${key}: ${written.status} ${written.body}`);
  const read = await get(gate, key);
  assert.equal(read.body.toString(), `value of ${key}`);
}

async function statuses(cluster: TestCluster): Promise<Map<string, Status>> {
  const all = await Promise.all(
    [...cluster.servers.values()].map(async (server) => [server.id, (await (await internalGet(server, '/internal/status')).json()) as Status] as const),
  );
  return new Map(all);
}

/** Exactly one replica leads, at the epoch `/state` has, and the gate routes to it. */
async function waitForOneLeader(cluster: TestCluster, zk: ZkSession, paths: ClusterPaths, above: number): Promise<StateRecord> {
  return waitFor(
    async () => {
      const state = parseState((await zk.getData(paths.state('p0')))!.data);
      const leaders = [...(await statuses(cluster))].filter(([, status]) => status.role === 'leader');
      const routed = await cluster.leaderOf('p0');
      const one = leaders.length === 1 && leaders[0]![0] === state.leader && leaders[0]![1].epoch === state.epoch && routed?.id === state.leader;
      return one && state.epoch > above ? state : undefined;
    },
    { timeoutMs: 6 * SESSION_TIMEOUT_MS, what: `one leader of p0 above epoch ${above}` },
  );
}

describe('malformed records in ZooKeeper', () => {
  let cluster: TestCluster;
  let zk: ZkSession;
  let paths: ClusterPaths;

  before(async () => {
    cluster = await startCluster({ name: 'zk-garbage', partitions: 1, sessionTimeoutMs: SESSION_TIMEOUT_MS, persistent: false });
    ({ zk, paths } = await operator(cluster));
  });
  after(async () => {
    zk.close();
    await cluster.stop();
  });

  const followerMemberNode = async (): Promise<string> => {
    const leader = (await cluster.waitForLeader('p0')).id;
    const membersPath = paths.members('p0');
    for (const child of (await zk.getChildren(membersPath)) ?? []) {
      const node = await zk.getData(`${membersPath}/${child}`);
      if (node && parseMember(node.data).id !== leader) return `${membersPath}/${child}`;
    }
    throw new Error('no follower member node');
  };

  for (const [what, pathOf] of [
    ['/state', async () => paths.state('p0')],
    ['/ring', async () => paths.ring],
    ['/leader', async () => paths.leader('p0')],
    ['a member node', followerMemberNode],
  ] as const) {
    it(`garbage in ${what}: every process stays up, data keeps flowing, /readyz names the node, and fixing it recovers`, async () => {
      await cluster.waitForSettled();
      const path = await pathOf();
      const good = (await zk.getData(path))!.data;
      await overwrite(zk, path, '{"not": "a record"');
      try {
        const gate = cluster.gateUrls[0]!;
        const urls = [gate, ...[...cluster.servers.values()].map((server) => server.url)];
        await waitFor(async () => (await Promise.all(urls.map(readyzMessage))).every((message) => message?.includes(path)), {
          what: `every gate and replica to name ${path} in /readyz`,
        });
        const view = await cluster.clusterView();
        assert.deepEqual(view.problems?.map((problem) => problem.path), [path]);
        await writesAndReadsWork(gate, `during-${what}`);
        for (const server of [...cluster.servers.values(), ...cluster.gates.map((process) => ({ process }))]) {
          assert.ok(server.process.running, `${server.process.name} is still running`);
        }
      } finally {
        await overwrite(zk, path, good);
      }
      const gate = cluster.gateUrls[0]!;
      await waitFor(async () => (await readyzMessage(gate)) === undefined, { what: 'the gate ready again' });
      assert.deepEqual((await cluster.clusterView()).problems, []);
      await writesAndReadsWork(gate, `after-${what}`);
    });
  }
});

describe('leadership changed by hand in ZooKeeper', () => {
  let cluster: TestCluster;
  let zk: ZkSession;
  let paths: ClusterPaths;

  before(async () => {
    cluster = await startCluster({ name: 'zk-by-hand', partitions: 1, sessionTimeoutMs: SESSION_TIMEOUT_MS, persistent: false });
    ({ zk, paths } = await operator(cluster));
  });
  after(async () => {
    zk.close();
    await cluster.stop();
  });

  it('a leader whose /leader node is deleted by hand: one leader again, at a new epoch, and writes go on', async () => {
    await cluster.waitForSettled();
    const before = parseState((await zk.getData(paths.state('p0')))!.data);
    await zk.remove(paths.leader('p0'));
    await waitForOneLeader(cluster, zk, paths, before.epoch);
    await writesAndReadsWork(cluster.gateUrls[0]!, 'after-leader-node-deleted');
  });

  it('a /state bumped to a higher epoch by hand: one leader again, above it, and writes go on', async () => {
    await cluster.waitForSettled();
    const node = (await zk.getData(paths.state('p0')))!;
    const bumped = { ...parseState(node.data), epoch: parseState(node.data).epoch + 10 };
    await zk.setData(paths.state('p0'), Buffer.from(JSON.stringify(bumped)), node.version);
    await waitForOneLeader(cluster, zk, paths, bumped.epoch);
    await writesAndReadsWork(cluster.gateUrls[0]!, 'after-state-bumped');
  });
});
