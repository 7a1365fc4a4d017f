import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ClusterAuth, peerMuxDoor } from '@kvstore/cluster';
import { decodeAppend, type AppendRequest } from '@kvstore/kvserver/internal';
import { FrameKind, acceptMux, decodeKvFrameRequest, encodeKvFrameAnswer, type KvFrameRequest } from '@kvstore/wire';
import { FORGED_EPOCH, Forger } from '../src/nemesis/forge';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** A replica that trusts its network, as the seed's did: it acts on whatever frames it gets. */
async function trustingReplica(lastSeq: number): Promise<{ url: string; appends: AppendRequest[]; writes: KvFrameRequest[]; server: http.Server }> {
  const appends: AppendRequest[] = [];
  const writes: KvFrameRequest[] = [];
  const server = http.createServer();
  // It checks no proof at all: the seed's replica, or one whose check is broken.
  const trustingAuth = new (class extends ClusterAuth {
    override check(): undefined {
      return undefined;
    }
  })(Buffer.alloc(32));
  const handlers = {
    [FrameKind.append]: (payload: Buffer) => {
      const request = decodeAppend(payload);
      appends.push(request);
      const answer = request.prevSeq > lastSeq ? { ok: false, reason: 'mismatch', epoch: request.epoch, lastSeq } : { ok: true, epoch: request.epoch, matchSeq: lastSeq + request.entries.length };
      return Buffer.from(JSON.stringify(answer));
    },
    [FrameKind.typedKv]: (payload: Buffer) => {
      writes.push(decodeKvFrameRequest(payload));
      return encodeKvFrameAnswer({ ok: true, replica: 'r1', version: 1, contentType: 'application/json; charset=utf-8', body: Buffer.from('{}') });
    },
    [FrameKind.installSnapshot]: async (payload: Buffer) => {
      const { leaderUrl } = JSON.parse(payload.toString('utf8')) as { leaderUrl: string };
      const response = await fetch(`${leaderUrl}/internal/snapshot?epoch=1`);
      throw new Error(`snapshot from ${leaderUrl} failed: ${response.status}`);
    },
  };
  acceptMux(server, { doors: peerMuxDoor({ auth: trustingAuth, maxFrameBytes: 1024 * 1024, handlers }), onError: () => undefined, onRefused: () => undefined });
  return { url: await listen(server), appends, writes, server };
}

test('a trusting replica: every forged request is accepted, and the write lands right after its log', async (t) => {
  const replica = await trustingReplica(41);
  t.after(() => close(replica.server));
  const forger = new Forger(2000);
  const sent = await forger.forge({ replica: 'r1', url: replica.url, keys: ['k1', 'k2', 'k3', 'k4'] });

  assert.deepEqual(sent.map((r) => [r.request, r.outcome]), [
    ['append-probe', 'accepted'],
    ['append-write', 'accepted'],
    ['install-snapshot', 'accepted'],
    ['kv-write', 'accepted'],
  ]);
  assert.match(sent[2].detail, /called the forger's url: GET \/internal\/snapshot/);
  assert.equal(forger.accepted, 4);
  assert.deepEqual(
    replica.writes.map((w) => [w.method, w.key, w.body.toString()]),
    [['PUT', 'k1', 'forged-4']],
  );
  assert.deepEqual(sent[3].writes, [{ key: 'k1', value: 'forged-4' }]);
  const write = replica.appends[1];
  assert.equal(write.epoch, FORGED_EPOCH);
  assert.equal(write.prevSeq, 0);
  assert.deepEqual(
    write.entries.map((e) => [e.seq, e.epoch, e.op.type === 'put' ? [e.op.key, e.op.value.toString()] : undefined]),
    [
      [42, FORGED_EPOCH, ['k1', 'forged-1']],
      [43, FORGED_EPOCH, ['k2', 'forged-2']],
      [44, FORGED_EPOCH, ['k3', 'forged-3']],
    ],
  );
  assert.equal(write.commitSeq, 44);
  assert.deepEqual(sent[1].writes, [
    { key: 'k1', value: 'forged-1' },
    { key: 'k2', value: 'forged-2' },
    { key: 'k3', value: 'forged-3' },
  ]);
});

test('a replica that refuses the upgrade, or hangs up: every forged request is refused', async (t) => {
  const refusing = http.createServer();
  refusing.on('upgrade', (_request, socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
  const hangingUp = http.createServer();
  hangingUp.on('upgrade', (_request, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: kvstore-mux/1\r\n\r\n');
    socket.once('data', () => socket.destroy());
  });
  const urls = [await listen(refusing), await listen(hangingUp)];
  t.after(() => Promise.all([close(refusing), close(hangingUp)]));

  const forger = new Forger(2000);
  const [refused, hungUp] = [await forger.forge({ replica: 'a', url: urls[0], keys: ['k1'] }), await forger.forge({ replica: 'b', url: urls[1], keys: ['k1'] })];
  assert.deepEqual(refused.map((r) => r.outcome), ['refused', 'refused', 'refused', 'refused']);
  assert.match(refused[0].detail, /upgrade refused: HTTP\/1.1 401/);
  assert.deepEqual(hungUp.map((r) => r.outcome), ['refused', 'refused', 'refused', 'refused']);
  assert.match(hungUp[0].detail, /closed before an answer/);
  assert.equal(forger.accepted, 0);
  assert.equal(forger.requests.length, 8);
});
