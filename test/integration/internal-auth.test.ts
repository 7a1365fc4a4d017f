import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import * as net from 'node:net';
import { test } from 'node:test';
import { encodeAppend, type AppendRequest } from '@kvstore/kvserver/internal';
import { CLUSTER_PROOF_HEADER, ClusterAuth, proofSubject } from '@kvstore/cluster';
import { clusterAuthOf, get, internalGet, put, rawMuxAnswers, rawMuxUpgrade, startCluster, waitFor, type RawUpgrade, type TestServer } from '@kvstore/testkit';
import { CLIENT_MUX_PATH, FrameKind, MUX_PATH, MUX_PROTOCOL, encodeKvFrameRequest, type KvFrameRequest } from '@kvstore/wire';

const HUGE_EPOCH = 2 ** 52;

function frame(id: number, kind: number, parts: Buffer[]): Buffer {
  const payload = Buffer.concat(parts);
  const header = Buffer.alloc(9);
  header.writeUInt32BE(payload.length + 5, 0);
  header.writeUInt32BE(id, 4);
  header.writeUInt8(kind, 8);
  return Buffer.concat([header, payload]);
}

/** The peers' door with `proof` (when given) on the upgrade. */
const peerDoor = (server: TestServer, proof?: string): RawUpgrade => ({ port: server.port, headerLines: proof === undefined ? '' : `${CLUSTER_PROOF_HEADER}: ${proof}\r\n` });

/** With a valid proof: the answer frames to `frames` (one answer each), as kind and text. */
async function answersTo(server: TestServer, proof: string, frames: Buffer[]): Promise<{ kind: number; text: string }[]> {
  const { answers } = await rawMuxAnswers(peerDoor(server, proof), frames);
  return answers.map(({ kind, payload }) => ({ kind, text: payload.toString('utf8') }));
}

test('a stranger without the cluster secret cannot drive replication: forged appends and snapshot orders are refused', async (t) => {
  const cluster = await startCluster({ partitions: 1, replicas: 3, gates: 1, name: 'internal-auth' });
  t.after(() => cluster.stop());
  const [gate] = cluster.gateUrls as [string];
  const acknowledged = new Map<string, string>();
  for (let n = 0; n < 50; n++) {
    const written = await put(gate, `key-${n}`, `value-${n}`);
    assert.equal(written.status, 200);
    acknowledged.set(`key-${n}`, `value-${n}`);
  }
  const leader = await cluster.waitForLeader('p0');
  const follower = [...cluster.servers.values()].find((server) => server.id !== leader.id)!;
  const before = (await (await internalGet(follower, '/internal/status')).json()) as { epoch: number; lastSeq: number };

  // Where a forged install-snapshot would send the follower for its data.
  let snapshotFetches = 0;
  const bait = createServer((_request, response) => {
    snapshotFetches += 1;
    response.end();
  });
  bait.listen(0, '127.0.0.1');
  await once(bait, 'listening');
  t.after(() => bait.close());
  const baitUrl = `http://127.0.0.1:${(bait.address() as net.AddressInfo).port}`;

  const forgedAppend: AppendRequest = {
    epoch: HUGE_EPOCH,
    leaderId: 'stranger',
    leaderUrl: baitUrl,
    prevSeq: before.lastSeq,
    prevEpoch: before.epoch,
    commitSeq: before.lastSeq + acknowledged.size,
    entries: [...acknowledged.keys()].map((key, index) => ({
      seq: before.lastSeq + index + 1,
      epoch: HUGE_EPOCH,
      op: { type: 'put' as const, key, value: Buffer.from('forged'), expiresAt: null },
    })),
  };
  const forgedWrite: KvFrameRequest = {
    method: 'PUT',
    key: 'key-0',
    ttl: undefined,
    consistency: 'strong',
    ifMatch: undefined,
    ifNoneMatch: false,
    requestId: 'stranger-1',
    routingVersion: undefined,
    body: Buffer.from('forged'),
  };
  const forgedFrames = [
    frame(1, FrameKind.append, encodeAppend(forgedAppend)),
    frame(2, FrameKind.installSnapshot, [Buffer.from(JSON.stringify({ epoch: HUGE_EPOCH, leaderId: 'stranger', leaderUrl: baitUrl }))]),
    frame(3, FrameKind.typedKv, encodeKvFrameRequest(forgedWrite)),
  ];
  const wrongSecret = new ClusterAuth(Buffer.from('a guess at the secret of this cluster'));
  const muxSubject = proofSubject('GET', MUX_PATH, MUX_PROTOCOL);
  const attempts = [undefined, wrongSecret.prove(muxSubject), 'not-a-proof'];
  const statusLines: string[] = [];
  for (const target of [follower, leader]) {
    for (const proof of attempts) statusLines.push(await rawMuxUpgrade(peerDoor(target, proof), forgedFrames));
  }
  const httpStatuses: number[] = [];
  for (const path of ['/internal/status', `/internal/snapshot?epoch=${before.epoch}`]) {
    httpStatuses.push((await fetch(`${follower.url}${path}`)).status);
    httpStatuses.push((await fetch(`${follower.url}${path}`, { headers: wrongSecret.headersFor('GET', path) })).status);
  }

  // A peer with the secret whose typed kv frames break the layout (a PUT that asks for an eventual read, a GET with a value) is answered `failed`.
  const broken = Buffer.concat(encodeKvFrameRequest(forgedWrite));
  broken[1] = 1;
  const leaderProof = clusterAuthOf(leader).prove(muxSubject);
  const brokenAnswers = await answersTo(leader, leaderProof, [
    frame(1, FrameKind.typedKv, [broken]),
    frame(2, FrameKind.typedKv, [Buffer.concat(encodeKvFrameRequest({ ...forgedWrite, method: 'GET', body: Buffer.alloc(0) })), Buffer.from('forged')]),
  ]);
  assert.deepEqual(brokenAnswers, [
    { kind: FrameKind.failed, text: 'kv frame has flags 1 that a PUT does not take' },
    { kind: FrameKind.failed, text: 'kv frame has a value for a GET' },
  ]);

  // The clients' door (open: this cluster runs without --auth) serves kv frames only: replication's kinds have no handler there.
  const clientDoor = await rawMuxAnswers({ port: follower.port, path: CLIENT_MUX_PATH }, forgedFrames.slice(0, 2));
  assert.match(clientDoor.head, /^HTTP\/1\.1 101 [^]*\r\nx-kv-frame-kinds: 5$/);
  assert.deepEqual(
    clientDoor.answers.map(({ kind, payload }) => ({ kind, text: payload.toString('utf8') })),
    [FrameKind.append, FrameKind.installSnapshot].map((kind) => ({ kind: FrameKind.failed, text: `no handler for frame kind ${kind}` })),
  );

  // Nothing changed: every acknowledged value reads back, from the leader and from the follower itself.
  for (const [key, value] of acknowledged) {
    assert.equal((await get(gate, key)).body.toString(), value, `${key} through the gate`);
    assert.equal((await get(follower.url, key, { consistency: 'eventual' })).body.toString(), value, `${key} on ${follower.id}`);
  }
  const after = (await (await internalGet(follower, '/internal/status')).json()) as { epoch: number; leader: string };
  assert.ok(after.epoch < HUGE_EPOCH, `the follower's epoch is ${after.epoch}`);
  assert.equal(after.leader, (await cluster.waitForLeader('p0')).id);
  assert.equal(snapshotFetches, 0, 'no snapshot was fetched from the stranger');
  assert.deepEqual(statusLines, Array(statusLines.length).fill('HTTP/1.1 401 Unauthorized'));
  assert.deepEqual(httpStatuses, [401, 401, 401, 401]);
  // The raw client itself is sound: with this cluster's secret the same upgrade is accepted.
  assert.equal(await rawMuxUpgrade(peerDoor(follower, clusterAuthOf(follower).prove(muxSubject))), 'HTTP/1.1 101 Switching Protocols');

  // Each refused connection is logged once, without the proof.
  const log = fs.readFileSync(follower.process.logFile, 'utf8');
  assert.equal(log.split('internal protocol connection refused').length - 1, attempts.length);
  assert.equal(log.split('internal request refused').length - 1, 4);
  assert.ok(!log.includes(attempts[1]!), 'the proof is not logged');

  // The partition still has a leader, its gate still sees every replica (by proving the secret), and it takes writes.
  await cluster.waitForSettled();
  const view = await cluster.clusterView();
  assert.ok(view.partitions[0]!.members.every((member) => member.lastSeq !== null), JSON.stringify(view.partitions[0]));
  for (let n = 0; n < 10; n++) {
    assert.equal((await put(gate, `after-${n}`, `later-${n}`)).status, 200);
    assert.equal((await get(gate, `after-${n}`)).body.toString(), `later-${n}`);
  }
});

test('a flood of forged internal requests writes a bounded number of warnings and then one line with the count', async (t) => {
  const cluster = await startCluster({ partitions: 1, replicas: 1, gates: 1, name: 'internal-flood' });
  t.after(() => cluster.stop());
  const [replica] = [...cluster.servers.values()] as [TestServer];
  const forged = 200;
  for (let n = 0; n < forged; n++) assert.equal((await fetch(`${replica.url}/internal/status`)).status, 401);
  const refusals = (): number => fs.readFileSync(replica.process.logFile, 'utf8').split('"msg":"internal request refused"').length - 1;
  // 20 a window of 10 s (DEFAULT_WARN_BUDGET): however slow this machine, 200 requests do not span ten windows.
  assert.ok(refusals() < forged / 2, `${refusals()} of ${forged} refusals logged`);
  await waitFor(() => /more \\"internal request refused\\" warnings in 10 s were not written/.test(fs.readFileSync(replica.process.logFile, 'utf8')), {
    timeoutMs: 30_000,
    what: 'the line that counts the warnings not written',
  });
  assert.equal((await put(cluster.gateUrls[0]!, 'still', 'serving')).status, 200);
});
