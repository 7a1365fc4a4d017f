import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { get, put, request, startCluster, waitFor, type HttpResult } from '@kvstore/testkit';

const MADE_ID = /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/;

type Line = Record<string, unknown>;

/** The JSON lines of a process's log (the harness adds plain lines of its own). */
function logLines(file: string): Line[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
}

/** Waits for a line of `file` with this message and request id, and returns it. */
function lineOf(file: string, msg: string, requestId: string): Promise<Line> {
  return waitFor(() => logLines(file).find((line) => line.msg === msg && line.requestId === requestId), {
    timeoutMs: 5000,
    what: `a "${msg}" line for ${requestId} in ${file}`,
  });
}

function errorOf(result: HttpResult): { code?: string; requestId?: string } {
  return (result.json as { error?: { code?: string; requestId?: string } } | undefined)?.error ?? {};
}

test('request ids: made or kept by the gate, sent to the replica, answered, and in both logs', async (t) => {
  const cluster = await startCluster({
    name: 'request-id',
    partitions: 1,
    replicas: 2,
    persistent: false,
    gateArgs: ['--slow-request-ms', '0', '--log-level', 'debug'],
    serverArgs: ['--slow-request-ms', '0'],
  });
  t.after(() => cluster.stop());
  const gate = cluster.gateUrls[0]!;
  const gateLog = cluster.gates[0]!.logFile;
  const leader = await cluster.waitForLeader('p0');
  const leaderLog = leader.process.logFile;

  await t.test('a request with an id gets it back, one without gets a new one', async () => {
    const named = await put(gate, 'greeting', 'hello', { headers: { 'x-request-id': 'it-put-1' } });
    assert.equal(named.status, 200);
    assert.equal(named.headers.get('x-request-id'), 'it-put-1');
    const unnamed = await get(gate, 'greeting');
    assert.equal(unnamed.body.toString(), 'hello');
    assert.match(unnamed.headers.get('x-request-id') ?? '', MADE_ID);
    const malformed = await get(gate, 'greeting', { headers: { 'x-request-id': 'x'.repeat(129) } });
    assert.match(malformed.headers.get('x-request-id') ?? '', MADE_ID);
  });

  await t.test('error answers carry the id in their body', async () => {
    const absent = await get(gate, 'absent', { headers: { 'x-request-id': 'it-404' } });
    assert.deepEqual([absent.status, errorOf(absent).code, errorOf(absent).requestId], [404, 'NOT_FOUND', 'it-404']);
    const badKey = await request('GET', `${gate}/v1/kv/%E0%A4%A`);
    assert.equal(badKey.status, 400);
    assert.equal(errorOf(badKey).requestId, badKey.headers.get('x-request-id'));
    const noRoute = await request('GET', `${gate}/no/such/route`, { headers: { 'x-request-id': 'it-route' } });
    assert.deepEqual([noRoute.status, errorOf(noRoute).requestId], [404, 'it-route']);
  });

  await t.test("the id is in the gate's and the leader's slow-request lines (--slow-request-ms 0)", async () => {
    for (const requestId of ['it-put-1', 'it-404']) {
      const atGate = await lineOf(gateLog, 'slow request', requestId);
      assert.equal(atGate.partition, 'p0');
      assert.equal(atGate.replica, leader.id);
      const atLeader = await lineOf(leaderLog, 'slow request', requestId);
      assert.equal(atLeader.replica, leader.id, 'the replica line is the leader’s');
    }
    assert.equal((await lineOf(gateLog, 'slow request', 'it-404')).status, 404);
  });

  await t.test("the gate's express routes get an access line, probes at debug", async () => {
    const view = await request('GET', `${gate}/v1/cluster`, { headers: { 'x-request-id': 'it-view' } });
    assert.equal(view.headers.get('x-request-id'), 'it-view');
    const line = await lineOf(gateLog, 'request', 'it-view');
    assert.deepEqual([line.method, line.url, line.status, typeof line.durationMs], ['GET', '/v1/cluster', 200, 'number']);
    await request('GET', `${gate}/healthz`, { headers: { 'x-request-id': 'it-probe' } });
    assert.equal((await lineOf(gateLog, 'request', 'it-probe')).level, 20);
  });

  await t.test("the gate's snapshot call carries the client's id to the leader", async () => {
    const snapshot = await request('GET', `${gate}/v1/admin/partitions/p0/snapshot`, { headers: { 'x-request-id': 'it-backup' } });
    assert.equal(snapshot.status, 200);
    await lineOf(leaderLog, 'snapshot stream started', 'it-backup');
  });

  await t.test('a request straight to a replica gets the same treatment', async () => {
    const direct = await get(leader.url, 'absent', { headers: { 'x-request-id': 'it-direct' } });
    assert.deepEqual([direct.status, direct.headers.get('x-request-id'), errorOf(direct).requestId], [404, 'it-direct', 'it-direct']);
    await lineOf(leaderLog, 'slow request', 'it-direct');
  });
});
