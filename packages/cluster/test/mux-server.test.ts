import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import * as net from 'node:net';
import { after, describe, it } from 'node:test';
import { FrameKind, FrameReader, MUX_PATH, MUX_PROTOCOL, MuxPool, acceptMux, frameHeader, type Frame, type MuxHandlers, type MuxServerOptions } from '@kvstore/wire';
import { CLUSTER_PROOF_HEADER, ClusterAuth, proofSubject } from '../src/wire/cluster-auth';
import { peerMuxDoor } from '../src/wire/peer-door';

const auth = new ClusterAuth(Buffer.from('the secret of this test cluster'));
const MAX_FRAME_BYTES = 64 * 1024;

/** Polls `condition` until it holds (bounded): for states reached asynchronously. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function frame(id: number, kind: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(id, kind, payload.length), payload]);
}

interface Served {
  port: number;
  refusals: { remote: string; reason: string }[];
  /** The server's side of each upgraded (or refused) connection. */
  sockets: net.Socket[];
}

describe('acceptMux with the peers\' door', () => {
  const servers: Server[] = [];
  const pools: MuxPool[] = [];
  const clients: net.Socket[] = [];
  after(async () => {
    for (const pool of pools) await pool.close();
    for (const client of clients) client.destroy();
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function serving(handlers: MuxHandlers, options: Partial<MuxServerOptions> = {}): Promise<Served> {
    const server = createServer();
    servers.push(server);
    const served: Served = { port: 0, refusals: [], sockets: [] };
    server.on('upgrade', (_request, socket: net.Socket) => served.sockets.push(socket));
    acceptMux(server, {
      doors: peerMuxDoor({ auth, handlers, maxFrameBytes: MAX_FRAME_BYTES }),
      onError: () => undefined,
      onRefused: (refusal) => served.refusals.push(refusal),
      ...options,
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    served.port = (server.address() as net.AddressInfo).port;
    return served;
  }

  function pool(maxFrameBytes = MAX_FRAME_BYTES): MuxPool {
    const made = new MuxPool({ credentials: auth.muxCredentials, maxFrameBytes, connectTimeoutMs: 1000 });
    pools.push(made);
    return made;
  }

  /** A raw client: sends the upgrade (with `proof` when given) and `then` in the same write; resolves to the answer's head. */
  async function upgrade(port: number, proof: string | undefined, then: Buffer = Buffer.alloc(0)): Promise<{ socket: net.Socket; head: string; rest: Buffer }> {
    const socket = net.connect({ host: '127.0.0.1', port });
    clients.push(socket);
    await once(socket, 'connect');
    const proofLine = proof === undefined ? '' : `${CLUSTER_PROOF_HEADER}: ${proof}\r\n`;
    socket.write(Buffer.concat([Buffer.from(`GET ${MUX_PATH} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${MUX_PROTOCOL}\r\n${proofLine}\r\n`), then]));
    let received = Buffer.alloc(0);
    while (!received.includes('\r\n\r\n')) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      received = Buffer.concat([received, chunk]);
    }
    const end = received.indexOf('\r\n\r\n') + 4;
    socket.pause();
    return { socket, head: received.subarray(0, end).toString('latin1'), rest: received.subarray(end) };
  }

  const muxProof = (): string => auth.prove(proofSubject('GET', MUX_PATH, MUX_PROTOCOL));

  it('refuses an upgrade without a proof, or with a wrong or replayed one: 401, closed, nothing run, logged once without the proof', async () => {
    let ran = 0;
    const served = await serving({ [FrameKind.append]: () => (ran++, Buffer.from('applied')) });
    const forged = frame(1, FrameKind.append, Buffer.from('forged'));
    const stranger = new ClusterAuth(Buffer.from('a secret of some other cluster'));
    const replayed = muxProof();
    assert.match((await upgrade(served.port, replayed)).head, /^HTTP\/1\.1 101 /);
    const proofs = [undefined, 'garbage', stranger.prove(proofSubject('GET', MUX_PATH, MUX_PROTOCOL)), auth.prove(proofSubject('GET', '/internal/status')), replayed];
    for (const proof of proofs) {
      const { socket, head } = await upgrade(served.port, proof, forged);
      assert.match(head, /^HTTP\/1\.1 401 /, `proof ${proof}`);
      socket.resume();
      if (!socket.closed) await once(socket, 'close');
    }
    assert.equal(ran, 0);
    assert.deepEqual(
      served.refusals.map((refusal) => refusal.reason),
      ['missing', 'malformed', 'wrong', 'wrong', 'replayed'].map((reason) => `no valid cluster proof (${reason})`),
    );
    for (const proof of proofs) if (proof) assert.ok(!served.refusals.some((refusal) => JSON.stringify(refusal).includes(proof)));
  });

  it('serves a pool that proves the secret', async () => {
    const served = await serving({ [FrameKind.kv]: (payload) => Buffer.concat([Buffer.from('echo '), payload]) });
    const answer = await pool().call(`http://127.0.0.1:${served.port}`, FrameKind.kv, Buffer.from('hello'), 1000);
    assert.equal(answer.toString(), 'echo hello');
    assert.deepEqual(served.refusals, []);
  });

  it('answers a frame of exactly its bound, and closes the connection on a longer one, logged', async () => {
    const served = await serving({ [FrameKind.kv]: (payload) => Buffer.from(String(payload.length)) });
    const { socket, rest } = await upgrade(served.port, muxProof());
    assert.equal(rest.length, 0);
    const answers: Frame[] = [];
    const reader = new FrameReader((read) => answers.push(read), MAX_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.resume();
    socket.write(frame(7, FrameKind.kv, Buffer.alloc(MAX_FRAME_BYTES - 5)));
    await until(() => answers.length === 1, 'the answer to a frame at the bound');
    assert.equal(answers[0]!.payload.toString(), String(MAX_FRAME_BYTES - 5));
    // Only the head of the oversized frame is sent: it is refused on its length alone.
    socket.write(frameHeader(8, FrameKind.kv, MAX_FRAME_BYTES - 4));
    if (!socket.closed) await once(socket, 'close');
    assert.equal(answers.length, 1);
    assert.equal(served.refusals.length, 1);
    assert.match(served.refusals[0]!.reason, /frame length 65537 is out of bounds/);
  });

  it('runs at most maxInFlight requests of a connection at once, and answers them all', async () => {
    let running = 0;
    let mostRunning = 0;
    const served = await serving(
      {
        [FrameKind.kv]: async (payload) => {
          running += 1;
          mostRunning = Math.max(mostRunning, running);
          await new Promise((resolve) => setTimeout(resolve, 2));
          running -= 1;
          return payload;
        },
      },
      { maxInFlight: 4 },
    );
    const client = pool();
    const ids = Array.from({ length: 200 }, (_, n) => String(n));
    const answers = await Promise.all(ids.map((id) => client.call(`http://127.0.0.1:${served.port}`, FrameKind.kv, Buffer.from(id), 5000)));
    assert.deepEqual(
      answers.map((answer) => answer.toString()),
      ids,
    );
    assert.equal(mostRunning, 4);
  });

  it('stops reading a connection whose peer does not read its answers, and goes on once it does', async () => {
    const answer = Buffer.alloc(256 * 1024, 1);
    let handled = 0;
    const served = await serving({ [FrameKind.kv]: () => (handled++, answer) });
    const { socket } = await upgrade(served.port, muxProof());
    const requests = 1000;
    socket.write(Buffer.concat(Array.from({ length: requests }, (_, n) => frame(n + 1, FrameKind.kv, Buffer.from('q')))));
    // The client reads nothing: once the socket buffers between the two are full, the server stops taking requests.
    const server = served.sockets[0]!;
    let seen = -1;
    await until(() => {
      const settled = server.isPaused() && server.writableNeedDrain && handled === seen;
      seen = handled;
      return settled;
    }, 'the server to stop reading');
    assert.ok(handled < requests, `${handled} of ${requests} requests handled with nobody reading the answers`);
    assert.ok(server.writableLength <= 2 * answer.length, `${server.writableLength} bytes of answers held in the server`);
    assert.deepEqual(served.refusals, []);

    let answered = 0;
    const reader = new FrameReader(() => answered++, MAX_FRAME_BYTES + answer.length);
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.resume();
    await until(() => answered === requests, 'every answer once the client reads', 20_000);
    assert.equal(handled, requests);
  });
});
