import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CLUSTER_PROOF_HEADER, ClusterAuth, type Principal } from '@kvstore/cluster';
import { clusterPaths, unauthenticated } from '@kvstore/protocol';
import request from 'supertest';
import { createApp } from '../src/http/app';
import type { PublicAuth } from '../src/http/public-auth';
import { ImportReceiver } from '../src/migration/import-receiver';
import { silentLogger } from '../src/replication/types';
import { SimCluster } from './support/sim-cluster';

const cluster = new ClusterAuth(Buffer.from('the secret of this test cluster'));

/** Tokens as the watched users would prove them: a bearer token names its principal here. */
const principals = new Map<string, Principal>([
  ['admin-token', { user: 'root', grants: [{ role: 'admin' }] }],
  ['reader-token', { user: 'reader', grants: [{ role: 'read' }] }],
  ['app-token', { user: 'app', grants: [{ role: 'readwrite', prefixes: ['app/'] }] }],
]);
const users: PublicAuth = {
  authenticate: async (authorization) => {
    const principal = principals.get(authorization?.replace(/^Bearer /, '') ?? '');
    if (!principal) throw unauthenticated('the token is not valid');
    return principal;
  },
};

function guardedApp(sim: SimCluster) {
  const replica = sim.replica('a');
  return createApp({
    replica,
    partition: 'p0',
    maxValueBytes: 1024,
    logger: silentLogger,
    auth: cluster,
    routing: { ringVersion: 1, beforeWrite: () => undefined, check: () => undefined },
    imports: new ImportReceiver({ partition: 'p0', replica, paths: clusterPaths('t'), records: { zk: () => undefined } }),
    notReadyBecause: () => undefined,
    users,
  }).http;
}

const bearer = (token: string): [string, string] => ['authorization', `Bearer ${token}`];

function assertError(response: request.Response, status: number, code: string): void {
  assert.equal(response.status, status, `${response.status}: ${response.text}`);
  assert.equal(response.body.error.code, code);
}

describe('replica --auth on: the public routes check tokens by the gate’s rules', () => {
  let app: ReturnType<typeof guardedApp>;
  before(async () => {
    app = guardedApp(await SimCluster.started(['a']));
  });

  it('refuses /v1/kv without a valid token (401 with the challenge) and changes nothing', async () => {
    const missing = await request(app).put('/v1/kv/k').send('v');
    assertError(missing, 401, 'UNAUTHENTICATED');
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="kvstore"');
    assertError(await request(app).put('/v1/kv/k').set(...bearer('forged')).send('v'), 401, 'UNAUTHENTICATED');
    assertError(await request(app).get('/v1/kv/k').set(...bearer('admin-token')), 404, 'NOT_FOUND');
  });

  it('applies the grants: read may read, not write; a prefix grant covers only its keys', async () => {
    assert.equal((await request(app).put('/v1/kv/app%2Fx').set(...bearer('app-token')).send('v')).status, 200);
    assertError(await request(app).put('/v1/kv/other').set(...bearer('app-token')).send('v'), 403, 'FORBIDDEN');
    assertError(await request(app).delete('/v1/kv/app%2Fx').set(...bearer('reader-token')), 403, 'FORBIDDEN');
    assert.equal((await request(app).get('/v1/kv/app%2Fx').set(...bearer('reader-token'))).status, 200);
    assertError(await request(app).get('/v1/kv/other').set(...bearer('app-token')), 403, 'FORBIDDEN');
    assertError(await request(app).get('/v1/kv/other').set(...bearer('admin-token')), 404, 'NOT_FOUND');
  });

  it('keeps the probes open, wants admin elsewhere, and leaves /internal/* to the cluster secret', async () => {
    assert.equal((await request(app).get('/healthz')).status, 200);
    assertError(await request(app).get('/v1/admin/snapshot'), 401, 'UNAUTHENTICATED');
    assertError(await request(app).get('/v1/admin/snapshot').set(...bearer('reader-token')), 403, 'FORBIDDEN');
    assertError(await request(app).post('/api/cache/put').set(...bearer('app-token')).send('{}'), 403, 'FORBIDDEN');
    // A peer (a gate streaming a snapshot for an admin it checked) proves the cluster secret instead; a forged proof is no proof.
    assertError(await request(app).get('/metrics').set(CLUSTER_PROOF_HEADER, 'forged'), 401, 'UNAUTHENTICATED');
    assert.notEqual((await request(app).get('/v1/admin/snapshot').set(cluster.headersFor('GET', '/v1/admin/snapshot'))).status, 401);
    const status = await request(app).get('/internal/status').set(cluster.headersFor('GET', '/internal/status'));
    assert.equal(status.status, 200, status.text);
  });
});
