import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { HttpTransport } from '../src/proxy/http-transport';
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

describe('HttpTransport', () => {
  const transport = new HttpTransport({ connectTimeoutMs: 500 });
  const servers: Server[] = [];
  after(async () => {
    await transport.close();
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('carries method, path, headers and body, and returns status, headers and body', async () => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        res.setHeader('etag', '"9"');
        res.end(`${req.method} ${req.url} ${req.headers['if-match']} ${Buffer.concat(chunks).toString()}`);
      });
    });
    servers.push(server);
    const url = await listen(server);
    const response = await transport.request({ url, method: 'PUT', path: '/v1/kv/a%2Fb', headers: { 'if-match': '"1"' }, body: Buffer.from('v'), timeoutMs: 1000 });
    assert.equal(response.status, 200);
    assert.equal(response.headers.etag, '"9"');
    assert.equal(response.body.toString(), 'PUT /v1/kv/a%2Fb "1" v');
  });

  it('classifies a refused connection as never sent', async () => {
    const server = createServer();
    const url = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    assert.equal(await failureOf(transport.request({ url, method: 'PUT', path: '/', headers: {}, timeoutMs: 1000 })), 'refused');
  });

  it('classifies a reset after sending, and a silent server, as unknown outcome', async () => {
    const resetting = createServer((req) => req.socket.destroy());
    const silent = createServer(() => undefined);
    servers.push(resetting, silent);
    const request = { method: 'PUT' as const, path: '/', headers: {}, body: Buffer.from('v'), timeoutMs: 200 };
    assert.equal(await failureOf(transport.request({ ...request, url: await listen(resetting) })), 'unknown-outcome');
    assert.equal(await failureOf(transport.request({ ...request, url: await listen(silent) })), 'unknown-outcome');
  });
});
