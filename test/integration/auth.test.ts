import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { get, put, request, runKvctl, startCluster, waitFor } from '@kvstore/testkit';

test('users, tokens and roles on gates that run --auth on', async (t) => {
  const cluster = await startCluster({ name: 'auth', partitions: 1, replicas: 2, gates: 2, persistent: false, auth: true });
  t.after(() => cluster.stop());
  const [gateA, gateB] = cluster.gateUrls as [string, string];
  const adminFile = cluster.adminTokenFile!;
  const admin = cluster.adminToken()!;
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const kvctl = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const run = await runKvctl(['--host', gateA, ...args], { env });
    return { ...run, out: run.stdout.toString() };
  };
  /** `kvctl user add` as the admin; the new user's token. */
  const addUser = async (args: string[]): Promise<string> => {
    const run = await kvctl(['--token-file', adminFile, 'user', 'add', ...args]);
    assert.equal(run.code, 0, run.stderr);
    const token = run.out.split('\n')[0]!;
    const file = path.join(cluster.dir, `${args[0]}.token`);
    writeFileSync(file, token, { mode: 0o600 });
    return token;
  };

  assert.equal((await put(gateA, 'k', 'by admin', bearer(admin))).status, 200);
  const reader = await addUser(['reader', '--role', 'read']);
  const app = await addUser(['app', '--role', 'readwrite', '--prefix', 'app/']);
  // A new user's token reaches every gate through its watch.
  for (const gate of [gateA, gateB]) {
    await waitFor(async () => (await get(gate, 'k', bearer(reader))).status === 200, { what: `the reader's token to work at ${gate}` });
  }

  await t.test('without a token (or with a bad one): 401 with a Bearer challenge, and nothing changes', async () => {
    const refused = await put(gateA, 'k', 'by nobody');
    assert.equal(refused.status, 401);
    assert.equal((refused.json as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await put(gateB, 'k', 'by a forger', bearer(`${reader.split('.')[0]}.${'x'.repeat(43)}`))).status, 401);
    assert.equal((await get(gateA, 'k', bearer(admin))).body.toString(), 'by admin');
    assert.equal((await request('GET', `${gateA}/healthz`)).status, 200);
    assert.equal((await request('GET', `${gateA}/readyz`)).status, 200);
  });

  await t.test('a read-only token reads but cannot write (403), on either gate', async () => {
    assert.equal((await get(gateB, 'k', bearer(reader))).body.toString(), 'by admin');
    const refused = await put(gateB, 'k', 'by reader', bearer(reader));
    assert.equal(refused.status, 403);
    assert.equal((refused.json as { error: { code: string } }).error.code, 'FORBIDDEN');
    assert.equal((await get(gateA, 'k', bearer(admin))).body.toString(), 'by admin');
  });

  await t.test('a prefix-limited token reads and writes its prefix only', async () => {
    assert.equal((await put(gateA, 'app/x', 'mine', bearer(app))).status, 200);
    assert.equal((await get(gateA, 'app/x', bearer(app))).body.toString(), 'mine');
    assert.equal((await get(gateA, 'k', bearer(app))).status, 403);
    assert.equal((await put(gateA, 'k', 'not mine', bearer(app))).status, 403);
  });

  await t.test('the snapshot route needs admin; the gate forwards no /internal path', async () => {
    const snapshot = `${gateA}/v1/admin/partitions/p0/snapshot`;
    assert.equal((await request('GET', snapshot)).status, 401);
    assert.equal((await request('GET', snapshot, bearer(reader))).status, 403);
    assert.equal((await request('GET', snapshot, bearer(app))).status, 403);
    const full = await request('GET', snapshot, bearer(admin));
    assert.equal(full.status, 200);
    assert.match(full.body.toString(), /"app\/x"/);
    assert.equal((await request('GET', `${gateA}/internal/status`, bearer(admin))).status, 404);
  });

  await t.test('/v1/cluster shows replica addresses to admins only', async () => {
    const members = async (token: string) => ((await request('GET', `${gateB}/v1/cluster`, bearer(token))).json as { partitions: { members: { url?: string }[] }[] }).partitions[0]!.members;
    assert.ok((await members(reader)).every((member) => member.url === undefined));
    assert.ok((await members(admin)).every((member) => member.url?.startsWith('http://127.0.0.1:')));
  });

  await t.test('kvctl takes the token from KV_TOKEN, from --token-file, and in the shell; it exits 5 when refused', async () => {
    assert.equal((await kvctl(['get', 'app/x'], { KV_TOKEN: app })).out, 'mine');
    const denied = await kvctl(['--token-file', path.join(cluster.dir, 'reader.token'), 'put', 'k', 'v']);
    assert.equal(denied.code, 5);
    assert.match(denied.stderr, /FORBIDDEN/);
    assert.equal((await kvctl(['get', 'k'])).code, 5);
    const shell = await runKvctl(['--host', gateA, '--token', app, '-i'], { stdin: 'put app/shell 1\nget app/shell\n' });
    assert.match(shell.stdout.toString(), /^kv> \d+\nkv> 1\n/);
    const list = await kvctl(['--token-file', adminFile, 'user', 'list', '-o', 'plain']);
    assert.deepEqual(list.out.trimEnd().split('\n').map((row) => row.split('\t').slice(0, 2)), [
      ['admin', 'admin'],
      ['app', 'readwrite:app/'],
      ['reader', 'read'],
    ]);
  });

  await t.test('a grant revoked or a user removed through kvctl stops working at every gate within a second', async () => {
    const revoked = await kvctl(['--token-file', adminFile, 'user', 'revoke', 'reader', 'read']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const after = Date.now();
    for (const gate of [gateA, gateB]) {
      await waitFor(async () => (await get(gate, 'k', bearer(reader))).status === 403, { timeoutMs: 1000, intervalMs: 20, what: `the revoke at ${gate}` });
    }
    assert.ok(Date.now() - after < 1000);

    const removed = await kvctl(['--token-file', adminFile, 'user', 'remove', 'app']);
    assert.equal(removed.code, 0, removed.stderr);
    for (const gate of [gateA, gateB]) {
      await waitFor(async () => (await get(gate, 'app/x', bearer(app))).status === 401, { timeoutMs: 1000, intervalMs: 20, what: `the removal at ${gate}` });
    }
  });

  await t.test('a token rotated through kvctl: the new one works beside the old until the old is removed, at every gate', async () => {
    const rotated = await addUser(['rotated', '--role', 'read']);
    const added = await kvctl(['--token-file', adminFile, 'user', 'token', 'add', 'rotated', '--expires-in', '30d']);
    assert.equal(added.code, 0, added.stderr);
    const fresh = added.out.split('\n')[0]!;
    const listed = await kvctl(['--token-file', adminFile, 'user', 'list']);
    assert.match(listed.out, new RegExp(`${fresh.split('.')[0]!} \\(expires \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC\\)`));
    for (const gate of [gateA, gateB]) {
      await waitFor(async () => (await get(gate, 'k', bearer(fresh))).status === 200, { what: `the new token at ${gate}` });
      assert.equal((await get(gate, 'k', bearer(rotated))).status, 200, 'the old token still works');
    }
    const removed = await kvctl(['--token-file', adminFile, 'user', 'token', 'remove', 'rotated', rotated.split('.')[0]!]);
    assert.equal(removed.code, 0, removed.stderr);
    for (const gate of [gateA, gateB]) {
      await waitFor(async () => (await get(gate, 'k', bearer(rotated))).status === 401, { timeoutMs: 1000, intervalMs: 20, what: `the old token's removal at ${gate}` });
      assert.equal((await get(gate, 'k', bearer(fresh))).status, 200);
    }
    const refused = await kvctl(['--token-file', adminFile, 'user', 'token', 'add', 'rotated', '--expires-in', 'soon']);
    assert.equal(refused.code, 2, 'a bad duration is a usage error');
  });
});
