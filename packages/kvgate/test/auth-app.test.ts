import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MemoryZooKeeper } from '@kvstore/cluster/testing';
import { clusterPaths, type ClusterView } from '@kvstore/protocol';
import pino from 'pino';
import request from 'supertest';
import { Authenticator, UserDirectory } from '@kvstore/cluster';
import { createUser, userAdmin } from '../src/auth/user-admin';
import { createApp } from '../src/http/app';
import { FailedLogins, type FailedLoginLimits } from '../src/limits/failed-logins';
import type { ForwardRequest, ForwardResult } from '../src/proxy/forwarder';
import { RoutingTable } from '../src/routing/routing-table';
import type { UiView } from '../src/ui/ui-view';
import { SESSION_COOKIE, cookieValue } from '../src/ui/ui-session';
import { snapshotOf, until } from './fixtures';

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

const uiView: UiView = { cluster: 'blue', builtAt: 1, ring: { version: 1, sealed: false, partitions: ['p0'], runs: [[0, 0]] }, partitions: [], migration: null, problems: [] };

let directory: UserDirectory;

afterEach(() => directory.stop());

/** An app with --auth on over an in-memory ZooKeeper holding users made here; the forwarder records what reaches it. */
async function authApp(failedLogins?: FailedLoginLimits) {
  const zk = new MemoryZooKeeper();
  const session = zk.connect();
  directory = new UserDirectory(paths, logger);
  await directory.attach(session);
  const seen: ForwardRequest[] = [];
  const authenticator = new Authenticator(directory, logger);
  const limited = failedLogins && new FailedLogins(failedLogins, authenticator, () => performance.now(), logger);
  const forwarder = { forward: async (forwarded: ForwardRequest) => (seen.push(forwarded), answer(forwarded)) };
  const app = createApp({
    forwarder,
    ui: { view: async () => uiView, routing: { table: () => new RoutingTable(snapshotOf({ p0: { members: ['a'], leader: 'a' } })) }, forwarder },
    maxValueBytes: 1024,
    clusterView: async () => view,
    readiness: () => ({ ready: true, reason: 'ok' }),
    logger,
    auth: failedLogins
      ? { authenticate: (header, address) => limited!.authenticate(header, address), users: userAdmin(() => session, paths) }
      : { authenticate: (header) => authenticator.authenticate(header), users: userAdmin(() => session, paths) },
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

  it('rotates a token: a second one works beside the first until the first is removed; one may expire', async () => {
    const { app, user } = setup;
    const admin = await user('root', { role: 'admin' });
    const old = await user('svc', { role: 'read' });
    const added = await request(app).post('/v1/admin/users/svc/tokens').set(...auth(admin)).send({ expiresInS: 3600 });
    assert.equal(added.status, 201, added.text);
    const fresh = added.body.token as string;
    const [oldId, freshId] = [old.split('.')[0]!, fresh.split('.')[0]!];
    assert.deepEqual(added.body.tokens.map((token: { id: string }) => token.id), [oldId, freshId]);
    assert.equal(added.body.tokens[1].expiresAt - added.body.tokens[1].createdAt, 3_600_000);
    await until(() => directory.owner(freshId) !== undefined, 'the new token to be watched');
    for (const token of [old, fresh]) assert.equal((await request(app).get('/v1/kv/k').set(...auth(token))).status, 200);

    const removed = await request(app).delete(`/v1/admin/users/svc/tokens/${oldId}`).set(...auth(admin));
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(removed.body.tokens.map((token: { id: string }) => token.id), [freshId]);
    await until(() => directory.owner(oldId) === undefined, 'the removal to be watched');
    assertError(await request(app).get('/v1/kv/k').set(...auth(old)), 401, 'UNAUTHENTICATED');
    assert.equal((await request(app).get('/v1/kv/k').set(...auth(fresh))).status, 200);

    assertError(await request(app).delete(`/v1/admin/users/svc/tokens/${oldId}`).set(...auth(admin)), 404, 'NOT_FOUND');
    assertError(await request(app).post('/v1/admin/users/nobody/tokens').set(...auth(admin)).send({}), 404, 'NOT_FOUND');
    for (const expiresInS of [0, -1, 1.5, '60', 10 * 365 * 24 * 3600 + 1]) {
      assertError(await request(app).post('/v1/admin/users/svc/tokens').set(...auth(admin)).send({ expiresInS }), 400, 'BAD_REQUEST');
    }
    assertError(await request(app).post('/v1/admin/users/svc/tokens').set(...auth(fresh)).send({}), 403, 'FORBIDDEN');
    const listed = await request(app).get('/v1/admin/users').set(...auth(admin));
    assert.deepEqual(listed.body.users.find((listedUser: { name: string }) => listedUser.name === 'svc').tokens.map((token: { id: string }) => token.id), [freshId]);
    assert.ok(!listed.text.includes(fresh.split('.')[1]!), 'no secret listed');
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

describe('web view sign-in with --auth on', () => {
  let setup: Awaited<ReturnType<typeof authApp>>;
  beforeEach(async () => {
    setup = await authApp();
  });
  const cookie = (token: string): [string, string] => ['Cookie', `other=1; ${SESSION_COOKIE}=${token}`];

  it('serves the page without a token, and its data only to a signed-in admin', async () => {
    const { app } = setup;
    assert.equal((await request(app).get('/')).status, 302);
    for (const path of ['/ui/', '/ui/app.js', '/ui/style.css']) assert.equal((await request(app).get(path)).status, 200, path);
    for (const path of ['/v1/ui/view', '/v1/ui/key?key=k', '/v1/ui/session']) assertError(await request(app).get(path), 401, 'UNAUTHENTICATED');
  });

  it('signs an admin in with a bearer token: an HttpOnly, SameSite=Strict cookie for /v1/ui that opens the page\'s reads', async () => {
    const { app, user } = setup;
    const admin = await user('root', { role: 'admin' });
    const signedIn = await request(app).post('/v1/ui/session').set(...auth(admin));
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.deepEqual(signedIn.body, { auth: true, user: 'root' });
    assert.deepEqual(signedIn.headers['set-cookie'], [`${SESSION_COOKIE}=${admin}; Path=/v1/ui; Max-Age=43200; HttpOnly; SameSite=Strict`]);
    assert.deepEqual((await request(app).get('/v1/ui/session').set(...cookie(admin))).body, { auth: true, user: 'root' });
    assert.deepEqual((await request(app).get('/v1/ui/view').set(...cookie(admin))).body, uiView);
    assert.equal((await request(app).get('/v1/ui/key?key=k').set(...cookie(admin))).status, 200);

    const signedOut = await request(app).delete('/v1/ui/session');
    assert.equal(signedOut.status, 204);
    assert.deepEqual(signedOut.headers['set-cookie'], [`${SESSION_COOKIE}=; Path=/v1/ui; Max-Age=0; HttpOnly; SameSite=Strict`]);
  });

  it('takes the cookie on the page\'s reads only: no write, no other route, no sign-in with it', async () => {
    const { app, seen, user } = setup;
    const admin = await user('root', { role: 'admin' });
    for (const response of [
      await request(app).put('/v1/kv/k').set(...cookie(admin)).send('v'),
      await request(app).get('/v1/kv/k').set(...cookie(admin)),
      await request(app).get('/v1/cluster').set(...cookie(admin)),
      await request(app).get('/v1/admin/users').set(...cookie(admin)),
      await request(app).post('/v1/admin/users/eve').set(...cookie(admin)).send({ grants: [{ role: 'admin' }] }),
      await request(app).post('/v1/ui/session').set(...cookie(admin)),
    ]) {
      assertError(response, 401, 'UNAUTHENTICATED');
    }
    assert.equal(seen.length, 0);
    assert.equal(directory.record('eve'), undefined);
  });

  it('refuses a wrong token (401) and a user without the admin role (403), setting no cookie; a removed user\'s cookie stops working', async () => {
    const { app, user } = setup;
    const reader = await user('reader', { role: 'read' });
    const wrong = await request(app).post('/v1/ui/session').set(...auth(`${reader.split('.')[0]!}.${'A'.repeat(43)}`));
    assertError(wrong, 401, 'UNAUTHENTICATED');
    const forbidden = await request(app).post('/v1/ui/session').set(...auth(reader));
    assertError(forbidden, 403, 'FORBIDDEN');
    assert.match(forbidden.body.error.message, /user reader lacks the admin role/);
    for (const refused of [wrong, forbidden]) assert.equal(refused.headers['set-cookie'], undefined);
    assertError(await request(app).get('/v1/ui/view').set(...cookie(reader)), 403, 'FORBIDDEN');

    const admin = await user('root', { role: 'admin' });
    assert.equal((await request(app).get('/v1/ui/view').set(...cookie(admin))).status, 200);
    await request(app).delete('/v1/admin/users/root').set(...auth(admin)).expect(200);
    await until(() => directory.record('root') === undefined, 'the removal to be watched');
    assertError(await request(app).get('/v1/ui/view').set(...cookie(admin)), 401, 'UNAUTHENTICATED');
  });
});

it('refuses an address 429 with Retry-After after its failed logins, on the data path, the express routes and the web view sign-in', async () => {
  const { app, seen, user } = await authApp({ maxFailures: 2, windowS: 60 });
  const admin = await user('root', { role: 'admin' });
  const forged = `${admin.split('.')[0]!}.${'A'.repeat(43)}`;
  assert.equal((await request(app).get('/v1/kv/k').set(...auth(admin))).status, 200);
  assertError(await request(app).get('/v1/kv/k').set(...auth(forged)), 401, 'UNAUTHENTICATED');
  assertError(await request(app).get('/v1/cluster').set(...auth('not-a-token')), 401, 'UNAUTHENTICATED');
  for (const refused of [
    await request(app).get('/v1/kv/k').set(...auth(forged)),
    await request(app).put('/v1/kv/k').set(...auth(forged)).send('v'),
    await request(app).get('/v1/cluster').set(...auth(forged)),
    await request(app).post('/v1/ui/session').set(...auth(forged)),
  ]) {
    assertError(refused, 429, 'TOO_MANY_REQUESTS');
    assert.equal(refused.headers['retry-after'], '30');
    assert.equal(refused.headers['set-cookie'], undefined);
  }
  assert.equal((await request(app).get('/v1/kv/k').set(...auth(admin))).status, 200, 'a token verified before still gets in');
  assert.equal(seen.length, 2);
});

it('reads one cookie from a Cookie header', () => {
  assert.equal(cookieValue('a=1; kvstore_ui=abc.def ; b=2', 'kvstore_ui'), 'abc.def');
  assert.equal(cookieValue('xkvstore_ui=1; kvstore_uix=2', 'kvstore_ui'), undefined);
  assert.equal(cookieValue(undefined, 'kvstore_ui'), undefined);
  assert.equal(cookieValue('kvstore_ui', 'kvstore_ui'), undefined);
});
