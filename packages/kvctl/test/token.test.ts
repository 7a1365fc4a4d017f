import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runKvctl } from './harness';

/** A gate that answers `get` for `Bearer good`, 401 without a token and 403 with any other. */
describe('kvctl tokens', () => {
  let server: Server;
  let host: string;
  const file = (text: string): string => {
    const path = join(mkdtempSync(join(tmpdir(), 'kvctl-token-')), 'token');
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    server = createServer((request, response) => {
      const authorization = request.headers.authorization;
      const [status, code] = authorization === undefined ? [401, 'UNAUTHENTICATED'] : authorization === 'Bearer good' ? [200, ''] : [403, 'FORBIDDEN'];
      if (status === 200) {
        response.writeHead(200, { etag: '"1"' });
        return response.end('value');
      }
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code, message: 'no' } }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const get = (flags: string[], env: NodeJS.ProcessEnv = {}) => runKvctl(['--host', host, ...flags, 'get', 'k'], { env });

  test('takes --token, else --token-file (trimmed), else KV_TOKEN, else KV_TOKEN_FILE', async () => {
    assert.equal((await get(['--token', 'good'], { KV_TOKEN: 'bad' })).stdout.toString(), 'value');
    assert.equal((await get(['--token-file', file('good\n')], { KV_TOKEN: 'bad' })).code, 0);
    assert.equal((await get([], { KV_TOKEN: 'good', KV_TOKEN_FILE: file('bad') })).code, 0);
    assert.equal((await get([], { KV_TOKEN_FILE: file(' good\n') })).code, 0);
  });

  test('exits 5 with the code for 401 and 403', async () => {
    const missing = await get([]);
    assert.equal(missing.code, 5);
    assert.match(missing.stderr, /^kvctl: UNAUTHENTICATED: /);
    const denied = await get(['--token', 'other']);
    assert.equal(denied.code, 5);
    assert.match(denied.stderr, /^kvctl: FORBIDDEN: /);
  });

  test('refuses both --token and --token-file, and an unreadable token file, as usage (exit 2)', async () => {
    assert.equal((await get(['--token', 'good', '--token-file', file('good')])).code, 2);
    const unreadable = await get(['--token-file', '/nonexistent/token']);
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.stderr, /cannot read the token file/);
  });
});
