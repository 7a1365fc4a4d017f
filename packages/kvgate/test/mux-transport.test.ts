import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { ClusterAuth, FrameKind, acceptMux, decodeKvRequest, encodeKvAnswer, type MuxHandler } from '@kvstore/cluster';
import { MuxTransport } from '../src/proxy/mux-transport';
import { TransportError } from '../src/proxy/transport';

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TransportError, String(error));
    return error.failure;
  }
  assert.fail('the request succeeded');
}

const auth = new ClusterAuth(Buffer.from('the secret of this test cluster'));
const MAX_FRAME_BYTES = 64 * 1024;

describe('MuxTransport', () => {
  const transport = new MuxTransport({ auth, maxFrameBytes: MAX_FRAME_BYTES, connectTimeoutMs: 500 });
  const servers: Server[] = [];
  after(async () => {
    await transport.close();
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  /** A replica-like server whose kv frames go to `handler`. */
  async function serving(handler: MuxHandler): Promise<{ url: string; sockets: Set<Socket> }> {
    const server = createServer();
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => sockets.add(socket));
    servers.push(server);
    acceptMux(server, { handlers: { [FrameKind.kv]: handler }, auth, maxFrameBytes: MAX_FRAME_BYTES, onError: () => undefined, onRefused: () => undefined });
    return { url: await listen(server), sockets };
  }

  it('carries method, path, headers, body and routing version, and returns status, headers and body', async () => {
    const { url } = await serving((payload) => {
      const request = decodeKvRequest(payload);
      const body = Buffer.from(`${request.method} ${request.path} ${request.headers['if-match']} ${request.body.toString()} ${request.routingVersion}`);
      return encodeKvAnswer({ status: 200, headers: { etag: '"9"' }, body });
    });
    const request = { url, method: 'PUT', path: '/v1/kv/a%2Fb', headers: { 'if-match': '"1"' }, body: Buffer.from('v'), timeoutMs: 1000 } as const;
    const response = await transport.request({ ...request, routingVersion: 12 });
    assert.equal(response.status, 200);
    assert.equal(response.headers.etag, '"9"');
    assert.equal(response.body.toString(), 'PUT /v1/kv/a%2Fb "1" v 12');
    assert.equal((await transport.request(request)).body.toString(), 'PUT /v1/kv/a%2Fb "1" v undefined');
  });

  it('gives each of many concurrent requests its own answer, whatever order they finish in', async () => {
    const { url } = await serving(async (payload) => {
      const { path } = decodeKvRequest(payload);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      return encodeKvAnswer({ status: 200, headers: {}, body: Buffer.from(path) });
    });
    const paths = Array.from({ length: 200 }, (_, i) => `/v1/kv/k${i}`);
    const answers = await Promise.all(paths.map((path) => transport.request({ url, method: 'GET', path, headers: {}, timeoutMs: 2000 })));
    assert.deepEqual(
      answers.map((answer) => answer.body.toString()),
      paths,
    );
  });

  it('classifies a refused connection, and a server without the protocol, as never sent', async () => {
    const closed = createServer();
    const closedUrl = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    assert.equal(await failureOf(transport.request({ url: closedUrl, method: 'PUT', path: '/', headers: {}, timeoutMs: 1000 })), 'refused');
    const plain = createServer((_req, res) => res.end());
    servers.push(plain);
    assert.equal(await failureOf(transport.request({ url: await listen(plain), method: 'PUT', path: '/', headers: {}, timeoutMs: 1000 })), 'refused');
  });

  it('is refused, as never sent, by a replica of a cluster with another secret', async () => {
    const stranger = new MuxTransport({ auth: new ClusterAuth(Buffer.from('a secret of some other cluster')), maxFrameBytes: MAX_FRAME_BYTES, connectTimeoutMs: 500 });
    let ran = false;
    const { url } = await serving(() => {
      ran = true;
      return encodeKvAnswer({ status: 200, headers: {}, body: Buffer.alloc(0) });
    });
    try {
      assert.equal(await failureOf(stranger.request({ url, method: 'PUT', path: '/v1/kv/a', headers: {}, body: Buffer.from('v'), timeoutMs: 1000 })), 'refused');
    } finally {
      await stranger.close();
    }
    assert.equal(ran, false);
  });

  it('closes a connection whose answer is longer than its frame bound: the request has an unknown outcome', async () => {
    const { url } = await serving(() => encodeKvAnswer({ status: 200, headers: {}, body: Buffer.alloc(MAX_FRAME_BYTES) }));
    assert.equal(await failureOf(transport.request({ url, method: 'GET', path: '/v1/kv/big', headers: {}, timeoutMs: 1000 })), 'unknown-outcome');
  });

  it('classifies a lost connection after sending, and a silent server, as unknown outcome', async () => {
    const resetting = await serving(() => {
      for (const socket of resetting.sockets) socket.destroy();
      return new Promise<Buffer>(() => undefined);
    });
    const silent = await serving(() => new Promise<Buffer>(() => undefined));
    const request = { method: 'PUT' as const, path: '/', headers: {}, body: Buffer.from('v'), timeoutMs: 200 };
    assert.equal(await failureOf(transport.request({ ...request, url: resetting.url })), 'unknown-outcome');
    assert.equal(await failureOf(transport.request({ ...request, url: silent.url })), 'unknown-outcome');
  });

  it('opens a new connection after one is lost', async () => {
    let first = true;
    const flaky = await serving(() => {
      if (first) {
        first = false;
        for (const socket of flaky.sockets) socket.destroy();
        return new Promise<Buffer>(() => undefined);
      }
      return encodeKvAnswer({ status: 200, headers: {}, body: Buffer.from('again') });
    });
    const request = { url: flaky.url, method: 'GET' as const, path: '/', headers: {}, timeoutMs: 1000 };
    assert.equal(await failureOf(transport.request(request)), 'unknown-outcome');
    assert.equal((await transport.request(request)).body.toString(), 'again');
  });
});
