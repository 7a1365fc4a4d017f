import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPEN_ACLS, ZkSession, ensureZkAuthFile, readZkAuthFile, type ZkDigest } from '@kvstore/cluster';
import { KVSTORE_ROOT, clusterPaths, type ClusterPaths } from '@kvstore/protocol';
import { get, put, startCluster, type TestCluster } from '@kvstore/testkit';
import { HeldPorts, ManagedProcess, REPO_ROOT, kvGateArgs, kvServerArgs, programMain, waitFor } from '@kvstore/testkit/harness';
import * as zookeeper from 'node-zookeeper-client';

const ZK_ACL_TOOL = path.join(REPO_ROOT, 'packages', 'cluster', 'bin', 'kvstore-zk-acl.js');
const ALL = zookeeper.Permission.ALL;

/** A bare node-zookeeper-client, as anyone who reaches ZooKeeper has one; `auth` is `user:password`. */
async function rawClient(connectString: string, auth?: string): Promise<zookeeper.Client> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: 5000, retries: 1 });
  if (auth !== undefined) client.addAuthInfo('digest', Buffer.from(auth));
  const connected = new Promise<void>((resolve) => client.once('connected', () => resolve()));
  client.connect();
  await connected;
  return client;
}

/** The ZooKeeper error code (a number) the call failed with, or 0 when it succeeded. */
function outcome(call: (done: (error: Error | zookeeper.Exception | null) => void) => void): Promise<number> {
  return new Promise((resolve) => call((error) => resolve(error instanceof zookeeper.Exception ? error.getCode() : error ? Number.NaN : 0)));
}

/** Every way in for a stranger: read, list, overwrite, create under, delete. Each answer's code, by what was tried. */
async function attempts(client: zookeeper.Client, paths: ClusterPaths): Promise<Record<string, number>> {
  const garbage = Buffer.from('{"epoch":99,"leader":null,"isr":[]}');
  return {
    'read /state': await outcome((done) => client.getData(paths.state('p0'), done)),
    'read /ring': await outcome((done) => client.getData(paths.ring, done)),
    'read /leader': await outcome((done) => client.getData(paths.leader('p0'), done)),
    'list the members': await outcome((done) => client.getChildren(paths.members('p0'), done)),
    'list the root': await outcome((done) => client.getChildren(paths.root, done)),
    'write /state': await outcome((done) => client.setData(paths.state('p0'), garbage, -1, done)),
    'write /ring': await outcome((done) => client.setData(paths.ring, Buffer.from('{}'), -1, done)),
    'delete /leader': await outcome((done) => client.remove(paths.leader('p0'), -1, done)),
    'create /migration': await outcome((done) => client.create(paths.migration, Buffer.from('{}'), done)),
    'change the ACL of /state': await outcome((done) => client.setACL(paths.state('p0'), OPEN_ACLS.node, -1, done)),
  };
}

/** `except`: what is not tried, e.g. the ephemeral /leader of a stopped cluster, which a read finds absent before asking for rights. */
function assertAllRefused(results: Record<string, number>, except: readonly string[] = []): void {
  for (const [what, code] of Object.entries(results)) {
    if (!except.includes(what)) assert.equal(code, zookeeper.Exception.NO_AUTH, `${what}: got ${code}, not NO_AUTH`);
  }
}

async function assertClosed(connectString: string, paths: ClusterPaths, except: readonly string[] = []): Promise<void> {
  const stranger = await rawClient(connectString);
  try {
    assertAllRefused(await attempts(stranger, paths), except);
  } finally {
    stranger.close();
  }
}

/** Every node under the cluster's root has every right for `digest`'s identity, and nobody else any. */
async function assertOwnedBy(connectString: string, paths: ClusterPaths, digest: ZkDigest, present: readonly string[]): Promise<void> {
  const session = await ZkSession.connect(connectString, { sessionTimeoutMs: 5000, digest });
  try {
    const acls = await aclsUnder(session, paths.root);
    for (const node of present) assert.ok(acls.has(node), `${node} was not found`);
    for (const [node, acl] of acls) assert.deepEqual(acl, [`digest:${digest.id}:${ALL}`], node);
  } finally {
    session.close();
  }
}

/** Every node under `root` (itself included) with its ACL, read with the cluster's credentials. */
async function aclsUnder(session: ZkSession, root: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const walk = async (at: string): Promise<void> => {
    const acl = await session.getAcl(at);
    if (acl === undefined) return; // an ephemeral node gone meanwhile
    found.set(at, acl);
    for (const child of (await session.getChildren(at)) ?? []) await walk(`${at}/${child}`);
  };
  await walk(root);
  return found;
}

async function writesAndReadsWork(gate: string, key: string): Promise<void> {
  const written = await put(gate, key, `value of ${key}`);
  assert.equal(written.status, 200, `PUT ${key}: ${written.status} ${written.body.toString()}`);
  assert.equal((await get(gate, key)).body.toString(), `value of ${key}`);
}

/** Runs a program of the cluster with `args` and waits (bounded) for it to exit by itself. */
async function exitOf(program: 'kvserver' | 'kvgate', args: string[], logFile: string): Promise<{ code: number | null; log: string }> {
  const child = await ManagedProcess.start({ name: `${program} (refused)`, command: process.execPath, args: [programMain(program), ...args], logFile, cwd: REPO_ROOT });
  try {
    const status = await Promise.race([child.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 15_000).unref())]);
    assert.ok(status, `${program} did not exit within 15 s:\n${child.logTail()}`);
    return { code: status.code, log: child.logTail(20) };
  } finally {
    await child.kill();
  }
}

describe('a cluster started with --zk-auth-file', () => {
  let cluster: TestCluster;
  let paths: ClusterPaths;
  let digest: ZkDigest;
  let credentials: string;

  before(async () => {
    cluster = await startCluster({ name: 'zk-acl', partitions: 1, replicas: 2, zkAuth: true, persistent: false });
    paths = clusterPaths(cluster.name);
    const file = cluster.servers.get('p0-r1')!.options.zkAuthFile!;
    digest = readZkAuthFile(file);
    credentials = fs.readFileSync(file, 'utf8').trim();
  });
  after(() => cluster.stop());

  it('serves writes and reads through the gate; the testkit reads its slot table with the credentials', async () => {
    await writesAndReadsWork(cluster.gateUrls[0]!, 'closed-cluster-key');
    assert.deepEqual((await cluster.ring()).partitions, ['p0']);
  });

  it('gives every node under its root every right for its identity, and none to anyone else', async () => {
    await cluster.waitForLeader('p0');
    await assertOwnedBy(cluster.zookeeper.connectString, paths, digest, [paths.root, paths.ring, paths.state('p0'), paths.leader('p0'), paths.members('p0'), paths.gates]);
  });

  it('refuses a client without the credentials, or with others, everything (NO_AUTH), and nothing changes', async () => {
    const owner = await rawClient(cluster.zookeeper.connectString, credentials);
    const stateBefore = await new Promise<Buffer>((resolve, reject) => owner.getData(paths.state('p0'), (error, data) => (error ? reject(error) : resolve(data))));
    for (const auth of [undefined, 'kvstore:not-the-password-of-this-cluster']) {
      const stranger = await rawClient(cluster.zookeeper.connectString, auth);
      try {
        assertAllRefused(await attempts(stranger, paths));
      } finally {
        stranger.close();
      }
    }
    const stateAfter = await new Promise<Buffer>((resolve, reject) => owner.getData(paths.state('p0'), (error, data) => (error ? reject(error) : resolve(data))));
    owner.close();
    assert.equal(stateAfter.toString(), stateBefore.toString());
    await writesAndReadsWork(cluster.gateUrls[0]!, 'still-served');
  });

  it('lets a client with the credentials read and write the records', async () => {
    const owner = await rawClient(cluster.zookeeper.connectString, credentials);
    try {
      for (const node of [paths.ring, paths.state('p0'), paths.leader('p0')]) assert.equal(await outcome((done) => owner.getData(node, done)), 0, node);
      assert.equal(await outcome((done) => owner.getChildren(paths.members('p0'), done)), 0);
      // A write that changes nothing but the version: the cluster goes on.
      const state = await new Promise<Buffer>((resolve, reject) => owner.getData(paths.state('p0'), (error, data) => (error ? reject(error) : resolve(data))));
      assert.equal(await outcome((done) => owner.setData(paths.state('p0'), state, -1, done)), 0);
    } finally {
      owner.close();
    }
    await writesAndReadsWork(cluster.gateUrls[0]!, 'after-the-owner');
  });

  it('leaves /kvstore open to clusters with other credentials: they create and delete their roots beside it', async () => {
    const stranger = await ZkSession.connect(cluster.zookeeper.connectString, { sessionTimeoutMs: 5000 });
    try {
      // Open if a cluster without credentials made it first; else what a closed cluster gives it (ZooKeeper hides the digest from others).
      const shared = String(await stranger.getAcl(KVSTORE_ROOT));
      const readCreateDelete = zookeeper.Permission.READ | zookeeper.Permission.CREATE | zookeeper.Permission.DELETE;
      const closedShape = new RegExp(`^digest:${digest.user}:[^,]+:${ALL},world:anyone:${readCreateDelete}$`);
      assert.ok(shared === `world:anyone:${ALL}` || closedShape.test(shared), shared);
      const beside = `${KVSTORE_ROOT}/zk-acl-neighbour-${process.pid}`;
      await stranger.mkdirp(`${beside}/ring`);
      await stranger.remove(`${beside}/ring`);
      await stranger.remove(beside);
    } finally {
      stranger.close();
    }
  });

  it('stops a gate or replica started without the credentials, or with wrong ones, with a NO_AUTH line', async () => {
    const template = cluster.servers.get('p0-r1')!.options;
    const wrongFile = ensureZkAuthFile(path.join(cluster.dir, 'wrong-zk.auth'));
    const held = await HeldPorts.hold(2);
    const [gatePort, serverPort] = held.ports as [number, number];
    await held.releaseAll();
    const refusedGate = await exitOf('kvgate', kvGateArgs({ ...template, zkAuthFile: undefined, port: gatePort, logFile: '' }), path.join(cluster.dir, 'logs', 'refused-gate.log'));
    assert.equal(refusedGate.code, 1, refusedGate.log);
    assert.match(refusedGate.log, /kvgate: zookeeper NO_AUTH at .*--zk-auth-file/);
    const server = { ...template, id: 'p0-r9', zkAuthFile: wrongFile, port: serverPort, logFile: '' };
    const refusedServer = await exitOf('kvserver', kvServerArgs(server), path.join(cluster.dir, 'logs', 'refused-server.log'));
    assert.equal(refusedServer.code, 1, refusedServer.log);
    assert.match(refusedServer.log, /kvserver: cannot join ZooKeeper at .*NO_AUTH/);
  });
});

describe('kvstore-zk-acl', () => {
  let cluster: TestCluster;
  let paths: ClusterPaths;

  before(async () => {
    cluster = await startCluster({ name: 'zk-acl-migrate', partitions: 1, replicas: 2, persistent: true });
    paths = clusterPaths(cluster.name);
  });
  after(() => cluster.stop());

  const runTool = (...args: string[]) =>
    spawnSync(process.execPath, [ZK_ACL_TOOL, '--zk', cluster.zookeeper.connectString, '--cluster', cluster.name, ...args], { encoding: 'utf8', timeout: 20_000 });

  it('closes an open cluster: strangers are refused, the cluster restarted with the credentials serves its data', async () => {
    await writesAndReadsWork(cluster.gateUrls[0]!, 'written-while-open');
    const file = ensureZkAuthFile(path.join(cluster.dir, 'zk.auth'));
    // The procedure of docs/security.md: stop every process, close the nodes, start them again with the credentials.
    await Promise.all([...cluster.gates, ...[...cluster.servers.values()].map((server) => server.process)].map((child) => child.stop()));
    const closed = runTool('--zk-auth-file', file);
    assert.equal(closed.status, 0, closed.stderr);
    assert.match(closed.stdout, new RegExp(`^closed to digest user kvstore: \\d+ nodes under ${paths.root}\\n$`));

    await assertClosed(cluster.zookeeper.connectString, paths, ['read /leader', 'delete /leader']);

    for (const server of cluster.servers.values()) server.options.zkAuthFile = file;
    cluster.gateOptions(0).zkAuthFile = file;
    await Promise.all([...[...cluster.servers.keys()].map((id) => cluster.restartServer(id)), cluster.restartGate(0)]);
    await cluster.waitForSettled();
    assert.equal((await get(cluster.gateUrls[0]!, 'written-while-open')).body.toString(), 'value of written-while-open');
    await writesAndReadsWork(cluster.gateUrls[0]!, 'written-once-closed');
    // What the restarted processes created (members, the leader, the gate) is closed too.
    await assertOwnedBy(cluster.zookeeper.connectString, paths, readZkAuthFile(file), [paths.leader('p0'), paths.gates]);
    await assertClosed(cluster.zookeeper.connectString, paths);
    assert.ok(!cluster.gates[0]!.logTail(200).includes('is open to anyone'), 'no warning on a closed root');
  });

  it('opens the cluster again with --open, and refuses a run without credentials or on no cluster', async () => {
    const file = path.join(cluster.dir, 'zk.auth');
    const opened = runTool('--zk-auth-file', file, '--open');
    assert.equal(opened.status, 0, opened.stderr);
    const anyone = await ZkSession.connect(cluster.zookeeper.connectString, { sessionTimeoutMs: 5000 });
    try {
      await waitFor(async () => (await anyone.getData(paths.ring)) !== undefined, { timeoutMs: 5000, what: 'the ring to be readable by anyone' });
    } finally {
      anyone.close();
    }
    // A gate with the credentials on the opened cluster says it is not protected.
    const gate = await cluster.restartGate(0);
    await waitFor(() => gate.process.logTail(50).includes(`${paths.root} is open to anyone in ZooKeeper although this process has --zk-auth-file`), {
      timeoutMs: 10_000,
      what: 'the gate to warn of the open root',
    });
    const withoutCredentials = runTool();
    assert.equal(withoutCredentials.status, 2);
    assert.match(withoutCredentials.stderr, /^kvstore-zk-acl: --zk-auth-file is required/);
    const noCluster = spawnSync(process.execPath, [ZK_ACL_TOOL, '--zk', cluster.zookeeper.connectString, '--cluster', 'no-such-cluster-here', '--zk-auth-file', file], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(noCluster.status, 1);
    assert.match(noCluster.stderr, /no cluster at \/kvstore\/no-such-cluster-here/);
  });
});
