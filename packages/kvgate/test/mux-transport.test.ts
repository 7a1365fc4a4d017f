import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { ClusterAuth, decodeKvRequest, encodeKvAnswer, peerMuxDoor } from '@kvstore/cluster';
import { FrameKind, acceptMux, decodeKvFrameRequest, encodeKvFrameAnswer, type KvFrameAnswer, type MuxHandler, type MuxHandlers } from '@kvstore/wire';
import { sampleKvFrameRequest } from '@kvstore/wire/testing';
import { MuxTransport } from '../src/proxy/mux-transport';
import { TransportError, type TransportRequest } from '../src/proxy/transport';

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

/** A request to `url` for key `k`: a GET unless `fields` say otherwise. */
function kvRequest(url: string, fields: Partial<TransportRequest> = {}): TransportRequest {
  return {
    ...sampleKvFrameRequest(),
    url,
    replica: 'a',
    timeoutMs: 1000,
    ...fields,
  };
}

/** A replica's success answer carrying `text`. */
function textAnswer(text: string): Buffer[] {
  return encodeKvFrameAnswer({ ok: true, replica: 'a', version: undefined, contentType: 'application/octet-stream', body: Buffer.from(text) });
}

function bodyOf(answer: KvFrameAnswer): string {
  assert.ok(answer.ok, 'a success');
  return answer.body.toString();
}

describe('MuxTransport', () => {
  const transport = new MuxTransport({ credentials: auth.muxCredentials, maxFrameBytes: MAX_FRAME_BYTES, connectTimeoutMs: 500 });
  const servers: Server[] = [];
  after(async () => {
    await transport.close();
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  /** A replica-like server whose typed kv frames go to `handler`. */
  function serving(handler: MuxHandler): Promise<{ url: string; sockets: Set<Socket> }> {
    return servingHandlers({ [FrameKind.typedKv]: handler });
  }

  async function servingHandlers(handlers: MuxHandlers): Promise<{ url: string; sockets: Set<Socket> }> {
    const server = createServer();
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => sockets.add(socket));
    servers.push(server);
    acceptMux(server, { doors: peerMuxDoor({ handlers, auth, maxFrameBytes: MAX_FRAME_BYTES }), onError: () => undefined, onRefused: () => undefined });
    return { url: await listen(server), sockets };
  }

  it('carries the parsed fields and the value as a typed kv frame, and returns the answer as fields', async () => {
    const seen: unknown[] = [];
    const { url } = await serving((payload) => {
      seen.push(decodeKvFrameRequest(payload));
      return encodeKvFrameAnswer({ ok: true, replica: 'a', version: 9, contentType: 'application/json; charset=utf-8', body: Buffer.from('{}') });
    });
    const { url: _, replica: __, timeoutMs: ___, ...put } = kvRequest(url, { method: 'PUT', key: 'a/b', ttl: 5, ifMatch: 1, body: Buffer.from('v'), routingVersion: 12 });
    const response = await transport.request({ ...put, url, replica: 'a', timeoutMs: 1000 });
    assert.deepEqual(response, { ok: true, replica: 'a', version: 9, contentType: 'application/json; charset=utf-8', body: Buffer.from('{}') });
    assert.deepEqual(seen, [put]);
  });

  it('sends a replica that predates the typed frame (it does not list it) a url and headers, and reads its HTTP answer into fields', async () => {
    const seen: string[] = [];
    const { url } = await servingHandlers({
      [FrameKind.kv]: (payload) => {
        const request = decodeKvRequest(payload);
        seen.push(`${request.method} ${request.path} ${JSON.stringify(request.headers)} ${request.body.toString()} ${request.routingVersion}`);
        if (request.path.startsWith('/v1/kv/gone')) {
          const body = Buffer.from(JSON.stringify({ error: { code: 'WRONG_PARTITION', message: 'not here' } }));
          return encodeKvAnswer({ status: 421, headers: { 'x-kv-routing-version': '8', 'x-kv-replica': 'a' }, body });
        }
        return encodeKvAnswer({ status: 200, headers: { etag: '"9"', 'content-type': 'application/octet-stream', 'x-kv-replica': 'a' }, body: Buffer.from('v') });
      },
    });
    const put = kvRequest(url, { method: 'PUT', key: 'a/b', ttl: 5, ifMatch: 1, ifNoneMatch: false, body: Buffer.from('v'), routingVersion: 12 });
    assert.deepEqual(await transport.request(put), { ok: true, replica: 'a', version: 9, contentType: 'application/octet-stream', body: Buffer.from('v') });
    const refused = await transport.request(kvRequest(url, { key: 'gone', consistency: 'eventual' }));
    assert.ok(!refused.ok);
    assert.deepEqual([refused.error.code, refused.error.message, refused.routingVersion], ['WRONG_PARTITION', 'not here', 8]);
    assert.deepEqual(seen, [
      'PUT /v1/kv/a%2Fb?ttl=5 {"x-request-id":"r-1","if-match":"\\"1\\"","content-type":"application/octet-stream"} v 12',
      'GET /v1/kv/gone?consistency=eventual {"x-request-id":"r-1"}  undefined',
    ]);
  });

  it('gives each of many concurrent requests its own answer, whatever order they finish in', async () => {
    const { url } = await serving(async (payload) => {
      const { key } = decodeKvFrameRequest(payload);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      return textAnswer(key);
    });
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    const answers = await Promise.all(keys.map((key) => transport.request(kvRequest(url, { key, timeoutMs: 2000 }))));
    assert.deepEqual(answers.map(bodyOf), keys);
  });

  it('classifies a refused connection, and a server without the protocol, as never sent', async () => {
    const closed = createServer();
    const closedUrl = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    assert.equal(await failureOf(transport.request(kvRequest(closedUrl))), 'refused');
    const plain = createServer((_req, res) => res.end());
    servers.push(plain);
    assert.equal(await failureOf(transport.request(kvRequest(await listen(plain)))), 'refused');
  });

  it('is refused, as never sent, by a replica of a cluster with another secret', async () => {
    const stranger = new MuxTransport({ credentials: new ClusterAuth(Buffer.from('a secret of some other cluster')).muxCredentials, maxFrameBytes: MAX_FRAME_BYTES, connectTimeoutMs: 500 });
    let ran = false;
    const { url } = await serving(() => {
      ran = true;
      return textAnswer('');
    });
    try {
      assert.equal(await failureOf(stranger.request(kvRequest(url, { method: 'PUT', body: Buffer.from('v') }))), 'refused');
    } finally {
      await stranger.close();
    }
    assert.equal(ran, false);
  });

  it('closes a connection whose answer is longer than its frame bound: the request has an unknown outcome', async () => {
    const { url } = await serving(() => textAnswer('x'.repeat(MAX_FRAME_BYTES)));
    assert.equal(await failureOf(transport.request(kvRequest(url))), 'unknown-outcome');
  });

  it('classifies a lost connection after sending, and a silent server, as unknown outcome', async () => {
    const resetting = await serving(() => {
      for (const socket of resetting.sockets) socket.destroy();
      return new Promise<Buffer>(() => undefined);
    });
    const silent = await serving(() => new Promise<Buffer>(() => undefined));
    const put = { method: 'PUT' as const, body: Buffer.from('v'), timeoutMs: 200 };
    assert.equal(await failureOf(transport.request(kvRequest(resetting.url, put))), 'unknown-outcome');
    assert.equal(await failureOf(transport.request(kvRequest(silent.url, put))), 'unknown-outcome');
  });

  it('opens a new connection after one is lost', async () => {
    let first = true;
    const flaky = await serving(() => {
      if (first) {
        first = false;
        for (const socket of flaky.sockets) socket.destroy();
        return new Promise<Buffer>(() => undefined);
      }
      return textAnswer('again');
    });
    const request = kvRequest(flaky.url);
    assert.equal(await failureOf(transport.request(request)), 'unknown-outcome');
    assert.equal(bodyOf(await transport.request(request)), 'again');
  });
});
