import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { KvClient } from '../src/index';

/** A gate that wants `Bearer good` and records the Authorization header of every request. */
describe('KvClient with a token', () => {
  let server: Server;
  let host: string;
  const seen: (string | undefined)[] = [];

  before(async () => {
    server = createServer((request, response) => {
      seen.push(request.headers.authorization);
      if (request.headers.authorization !== 'Bearer good') {
        response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
        return response.end(JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'token wanted' } }));
      }
      response.writeHead(200, { etag: '"1"', 'content-type': 'application/json' });
      response.end(request.url === '/v1/admin/users' ? '{"users":[]}' : 'v');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  test('sends Authorization: Bearer on every request, data and admin alike', async () => {
    const client = new KvClient({ hosts: host, token: 'good', retries: 0 });
    seen.length = 0;
    assert.equal((await client.get('k')).value.toString(), 'v');
    assert.deepEqual(await client.users(), []);
    client.close();
    assert.deepEqual(seen, ['Bearer good', 'Bearer good']);
  });

  test('without one, the 401 is an UNAUTHENTICATED KvError, not retried', async () => {
    const client = new KvClient({ hosts: host, retries: 2 });
    seen.length = 0;
    await assert.rejects(client.get('k'), { code: 'UNAUTHENTICATED' });
    client.close();
    assert.deepEqual(seen, [undefined]);
  });

  test('refuses a token that cannot be a header value', () => {
    assert.throws(() => new KvClient({ hosts: host, token: 'two words' }), TypeError);
    assert.throws(() => new KvClient({ hosts: host, token: 'line\n' }), TypeError);
  });
});
