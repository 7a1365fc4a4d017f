import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MemoryZooKeeper } from '@kvstore/cluster/testing';
import { clusterPaths, type ClusterView } from '@kvstore/protocol';
import pino from 'pino';
import request from 'supertest';
import { Authenticator } from '../src/auth/authenticator';
import { createUser, userAdmin } from '../src/auth/user-admin';
import { UserDirectory } from '../src/auth/user-directory';
import { createApp } from '../src/http/app';
import type { ForwardRequest, ForwardResult } from '../src/proxy/forwarder';
import { until } from './fixtures';

const paths = clusterPaths('blue');
const logger = pino({ level: 'silent' });
const view: ClusterView = {
  cluster: 'blue',
  ring: { version: 1, partitions: ['p0'] },
  partitions: [{ name: 'p0', epoch: 1, leader: 'a', isr: ['a'], members: [{ id: 'a', url: 'http://10.0.0.1:4000', role: 'leader', lastSeq: 1, lag: 0 }] }],
};

function answer(forwarded: ForwardRequest): ForwardResult {
  const body = forwarded.method === 'GET' ? Buffer.from('value') : Buffer.from(JSON.stringify({ key: forwarded.key, version: 1 }));
  return { ok: true, partition: 'p0', replica: 'a', response: { ok: true, replica: 'a', version: 1, contentType: forwarded.method === 'GET' ? 'application/octet-stream' : 'application/json; charset=utf-8', body } };
}

let directory: UserDirectory;

afterEach(() => directory.stop());

/** An app with --auth on over an in-memory ZooKeeper holding users made here; the forwarder records what reaches it. */
async function authApp() {
  const zk = new MemoryZooKeeper();
  const session = zk.connect();
  directory = new UserDirectory(paths, logger);
  await directory.attach(session);
  const seen: ForwardRequest[] = [];
  const authenticator = new Authenticator(directory, logger);
  const app = createApp({
    forwarder: { forward: async (forwarded) => (seen.push(forwarded), answer(forwarded)) },
    maxValueBytes: 1024,
    clusterView: async () => view,
    readiness: () => ({ ready: true, reason: 'ok' }),
    logger,
    auth: { authenticate: (header) => authenticator.authenticate(header), users: userAdmin(() => session, paths) },
  });
  /** Makes a user straight in ZooKeeper and waits until the gate knows it; its token. */
  const user = async (name: string, ...grants: Parameters<typeof createUser>[3]): Promise<string> => {
    const { token, tokens } = await createUser(session, paths, name, grants, 0);
    await until(() => directory.owner(tokens[0]!.id) !== undefined, `user ${name} to be watched`);
    return token;
  };
  return { app, seen, user, zk };
}

const auth = (token: string): [string, string] => ['Authorization', `Bearer ${token}`];

function assertError(response: request.Response, status: number, code: string): void {
  assert.equal(response.status, status, `${response.status}: ${response.text}`);
  assert.equal(response.body.error.code, code);
}

describe('app with --auth on', () => {
  let setup: Awaited<ReturnType<typeof authApp>>;
  beforeEach(async () => {
    setup = await authApp();
  });

  it('keeps the probes open and answers 401 with a Bearer challenge everywhere else, forwarding nothing', async () => {
    const { app, seen } = setup;
    assert.equal((await request(app).get('/healthz')).status, 200);
    assert.equal((await request(app).get('/readyz')).status, 200);
    for (const response of [
      await request(app).put('/v1/kv/k').send('v'),
      await request(app).get('/v1/kv/k'),
      await request(app).get('/v1/cluster'),
      await request(app).get('/v1/admin/partitions/p0/snapshot'),
      await request(app).post('/api/cache/put').send({ key: 'k', value: 'dg==' }),
      await request(app).get('/internal/status'),
      await request(app).get('/v1/kv/k').set('Authorization', 'Bearer not-a-token'),
    ]) {
      assertError(response, 401, 'UNAUTHENTICATED');
      assert.match(String(response.headers['www-authenticate']), /^Bearer/);
    }
    assert.equal(seen.length, 0);
  });

  it('lets a read grant read and refuses its writes with 403, forwarding neither the refusal nor the token', async () => {
    const { app, seen, user } = setup;
    const reader = await user('reader', { role: 'read' });
    assert.equal((await request(app).get('/v1/kv/k').set(...auth(reader))).status, 200);
    assertError(await request(app).put('/v1/kv/k').set(...auth(reader)).send('v'), 403, 'FORBIDDEN');
    assertError(await request(app).delete('/v1/kv/k').set(...auth(reader)), 403, 'FORBIDDEN');
    assertError(await request(app).post('/api/cache/put').set(...auth(reader)).send({ key: 'k', value: 'dg==' }), 403, 'FORBIDDEN');
    assert.deepEqual(seen.map((forwarded) => forwarded.method), ['GET']);
    assert.ok(!JSON.stringify(seen).toLowerCase().includes('authorization'));
  });

  it('holds a prefix-limited grant to its prefixes, on the kv routes and the seed API', async () => {
    const { app, user } = setup;
    const token = await user('app', { role: 'readwrite', prefixes: ['app/'] });
    assert.equal((await request(app).put('/v1/kv/app%2Fx').set(...auth(token)).send('v')).status, 200);
    assert.equal((await request(app).get('/api/cache/get?key=app/x').set(...auth(token))).status, 200);
    assertError(await request(app).get('/v1/kv/other').set(...auth(token)), 403, 'FORBIDDEN');
    assertError(await request(app).get('/api/cache/get?key=other').set(...auth(token)), 403, 'FORBIDDEN');
  });

  it('keeps admin routes, user management and routes it does not know for admins', async () => {
    const { app, user } = setup;
    const writer = await user('writer', { role: 'readwrite' });
    const admin = await user('root', { role: 'admin' });
    for (const [method, path] of [
      ['get', '/v1/admin/partitions/p0/snapshot'],
      ['post', '/v1/admin/rebalance'],
      ['get', '/v1/admin/users'],
      ['get', '/metrics'],
    ] as const) {
      assertError(await request(app)[method](path).set(...auth(writer)), 403, 'FORBIDDEN');
    }
    assert.equal((await request(app).get('/v1/admin/users').set(...auth(admin))).status, 200);
    assertError(await request(app).get('/metrics').set(...auth(admin)), 404, 'NOT_FOUND');
  });

  it('shows replica addresses in /v1/cluster to admins only', async () => {
    const { app, user } = setup;
    const reader = await user('reader', { role: 'read' });
    const admin = await user('root', { role: 'admin' });
    const seenByReader = (await request(app).get('/v1/cluster').set(...auth(reader))).body as ClusterView;
    assert.deepEqual(seenByReader.partitions[0]!.members[0], { id: 'a', role: 'leader', lastSeq: 1, lag: 0 });
    assert.deepEqual((await request(app).get('/v1/cluster').set(...auth(admin))).body, view);
  });

  it('manages users: add shows a token that works at once after the watch; grant, revoke and remove apply to it', async () => {
    const { app, user, zk } = setup;
    const admin = await user('root', { role: 'admin' });
    const added = await request(app).post('/v1/admin/users/bob').set(...auth(admin)).send({ grants: [{ role: 'read', prefixes: ['b/'] }] });
    assert.equal(added.status, 201, added.text);
    const bob = added.body.token as string;
    assert.ok(!zk.get(paths.user('bob'))!.data.toString().includes(bob.split('.')[1]!), 'ZooKeeper holds no token');
    await until(() => directory.record('bob') !== undefined, 'bob to be watched');
    assert.equal((await request(app).get('/v1/kv/b%2F1').set(...auth(bob))).status, 200);

    const granted = await request(app).put('/v1/admin/users/bob/grants/readwrite').set(...auth(admin)).send({ prefixes: ['b/'] });
    assert.deepEqual(granted.body.grants, [{ role: 'read', prefixes: ['b/'] }, { role: 'readwrite', prefixes: ['b/'] }]);
    await until(() => directory.record('bob')?.grants.length === 2, 'the grant to be watched');
    assert.equal((await request(app).put('/v1/kv/b%2F1').set(...auth(bob)).send('v')).status, 200);

    await request(app).delete('/v1/admin/users/bob/grants/readwrite').set(...auth(admin)).expect(200);
    await until(() => directory.record('bob')?.grants.length === 1, 'the revoke to be watched');
    assertError(await request(app).put('/v1/kv/b%2F1').set(...auth(bob)).send('v'), 403, 'FORBIDDEN');

    await request(app).delete('/v1/admin/users/bob').set(...auth(admin)).expect(200);
    await until(() => directory.record('bob') === undefined, 'the removal to be watched');
    assertError(await request(app).get('/v1/kv/b%2F1').set(...auth(bob)), 401, 'UNAUTHENTICATED');
  });

  it('keeps the last good record of a user whose node turns malformed, and reports it', async () => {
    const { app, user, zk } = setup;
    const reader = await user('reader', { role: 'read' });
    zk.write(paths.user('reader'), Buffer.from('{"grants": "all"}'));
    await until(() => directory.problems().length === 1, 'the malformed record to be seen');
    assert.equal(directory.problems()[0]!.path, paths.user('reader'));
    assert.equal((await request(app).get('/v1/kv/k').set(...auth(reader))).status, 200);
  });

  it('refuses bad user requests with 4xx and changes nothing', async () => {
    const { app, user, zk } = setup;
    const admin = await user('root', { role: 'admin' });
    const post = (path: string, body: unknown) => request(app).post(path).set(...auth(admin)).send(body as object);
    assertError(await post('/v1/admin/users/bob', { grants: [{ role: 'owner' }] }), 400, 'BAD_REQUEST');
    assertError(await post('/v1/admin/users/bob', { grants: [] }), 400, 'BAD_REQUEST');
    assertError(await post('/v1/admin/users/bob', { grants: [{ role: 'admin', prefixes: ['a'] }] }), 400, 'BAD_REQUEST');
    assertError(await post('/v1/admin/users/bob', { grants: [{ role: 'read', prefixes: [''] }] }), 400, 'BAD_REQUEST');
    assertError(await post('/v1/admin/users/bob', { grants: [{ role: 'read' }, { role: 'read' }] }), 400, 'BAD_REQUEST');
    assertError(await post('/v1/admin/users/..', { grants: [{ role: 'read' }] }), 400, 'BAD_REQUEST');
    assertError(await request(app).post('/v1/admin/users/bob').set(...auth(admin)).set('Content-Type', 'application/json').send('{'), 400, 'BAD_REQUEST');
    assert.equal(zk.get(paths.user('bob')), undefined);
    assertError(await post('/v1/admin/users/root', { grants: [{ role: 'read' }] }), 409, 'CONFLICT');
    assertError(await request(app).delete('/v1/admin/users/nobody').set(...auth(admin)), 404, 'NOT_FOUND');
    assertError(await request(app).delete('/v1/admin/users/root/grants/read').set(...auth(admin)), 404, 'NOT_FOUND');
  });
});
