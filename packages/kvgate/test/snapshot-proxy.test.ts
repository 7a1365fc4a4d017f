import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { ClusterView } from '@kvstore/protocol';
import { textBody } from '@kvstore/cluster/testing';
import request from 'supertest';
import { createApp } from '../src/http/app';
import { SnapshotProxy, type StreamRequest, type StreamResponse, type StreamTransport } from '../src/proxy/snapshot-proxy';
import { RoutingState } from '../src/routing/routing-state';
import { snapshotOf, urlOf, type PartitionSpec } from './fixtures';

type Answer = StreamResponse | Error;

/** Answers each open in turn from a script per replica url, and records the urls tried and the request ids sent. */
class ScriptedTransport implements StreamTransport {
  readonly tried: string[] = [];
  readonly requestIds: string[] = [];
  constructor(private readonly script: Record<string, Answer[]>) {}
  async open(request: StreamRequest): Promise<StreamResponse> {
    this.tried.push(request.url);
    this.requestIds.push(request.requestId);
    const answer = this.script[request.url]?.shift() ?? new Error('ECONNREFUSED');
    if (answer instanceof Error) throw Object.assign(answer, { code: answer.message });
    return answer;
  }
  async close(): Promise<void> {}
}

const ndjson = (lines: unknown[], replica: string): StreamResponse => ({
  status: 200,
  headers: { 'content-type': 'application/x-ndjson', 'x-kv-replica': replica },
  body: Readable.from(lines.map((line) => `${JSON.stringify(line)}\n`)),
});
const error = (status: number, code: string, leader?: string): StreamResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Readable.from([JSON.stringify({ error: { code, message: code, leader } })]),
});
const SNAPSHOT = [{ partition: 'p0', seq: 9, epoch: 2, keys: 1 }, { key: 'k', value: 'dg==', version: 9, expiresAt: null }, { end: 1 }];

const view: ClusterView = { cluster: 'default', ring: { version: 1, partitions: ['p0'] }, partitions: [] };

function setup(spec: Record<string, PartitionSpec>, script: Record<string, Answer[]>, writeTimeoutMs = 200) {
  const routing = new RoutingState();
  routing.update(snapshotOf(spec));
  const transport = new ScriptedTransport(script);
  const snapshots = new SnapshotProxy({ routing, transport, writeTimeoutMs });
  const app = createApp({
    forwarder: { forward: async () => assert.fail('no key request expected') },
    maxValueBytes: 16,
    clusterView: async () => view,
    readiness: () => ({ ready: true, reason: 'ok' }),
    snapshots,
  });
  const get = (partition: string, requestId = 'snapshot-1') =>
    request(app)
      .get(`/v1/admin/partitions/${partition}/snapshot`)
      .set('X-Request-Id', requestId)
      .buffer(true)
      .parse(textBody);
  return { routing, transport, get };
}

describe('gate: GET /v1/admin/partitions/<p>/snapshot', () => {
  it("streams the leader's snapshot through with who served it", async () => {
    const { get, transport } = setup({ p0: { members: ['a', 'b'], leader: 'a' } }, { [urlOf('a')]: [ndjson(SNAPSHOT, 'a')] });
    const response = await get('p0');
    assert.equal(response.status, 200);
    assert.equal(response.body, SNAPSHOT.map((line) => `${JSON.stringify(line)}\n`).join(''));
    assert.match(String(response.headers['content-type']), /application\/x-ndjson/);
    assert.equal(response.headers['x-kv-partition'], 'p0');
    assert.equal(response.headers['x-kv-replica'], 'a');
    assert.deepEqual(transport.tried, [urlOf('a')]);
  });

  it('a partition not on the ring is 404 JSON', async () => {
    const { get, transport } = setup({ p0: { members: ['a'], leader: 'a' } }, {});
    const response = await get('p9');
    assert.equal(response.status, 404);
    assert.equal(JSON.parse(response.body).error.code, 'NOT_FOUND');
    assert.deepEqual(transport.tried, []);
  });

  it('follows a NOT_LEADER hint to another member, and retries a refused connection', async () => {
    const { get, transport } = setup(
      { p0: { members: ['a', 'b'], leader: 'a' } },
      { [urlOf('a')]: [new Error('ECONNREFUSED'), error(421, 'NOT_LEADER', urlOf('b'))], [urlOf('b')]: [ndjson(SNAPSHOT, 'b')] },
    );
    const response = await get('p0');
    assert.equal(response.status, 200, response.body);
    assert.equal(response.headers['x-kv-replica'], 'b');
    assert.deepEqual(transport.tried, [urlOf('a'), urlOf('a'), urlOf('b')]);
  });

  it("sends every attempt with the client's request id, and names it in an error", async () => {
    const { get, transport } = setup({ p0: { members: ['a', 'b'], leader: 'a' } }, { [urlOf('a')]: [error(421, 'NOT_LEADER', urlOf('b'))], [urlOf('b')]: [error(400, 'BAD_REQUEST')] });
    const response = await get('p0', 'backup-7');
    assert.deepEqual(transport.requestIds, ['backup-7', 'backup-7']);
    assert.equal(response.headers['x-request-id'], 'backup-7');
    assert.equal(JSON.parse(response.body).error.requestId, 'backup-7');
  });

  it('waits for a leader within the write timeout, then answers 503', async () => {
    const { get } = setup({ p0: { members: ['a'] } }, {}, 100);
    const started = Date.now();
    const response = await get('p0');
    assert.equal(response.status, 503);
    assert.equal(JSON.parse(response.body).error.code, 'UNAVAILABLE');
    assert.ok(Date.now() - started >= 90);
  });

  it('a leader elected while waiting is used', async () => {
    const { get, routing } = setup({ p0: { members: ['a'] } }, { [urlOf('a')]: [ndjson(SNAPSHOT, 'a')] }, 2000);
    setTimeout(() => routing.update(snapshotOf({ p0: { members: ['a'], leader: 'a' } })), 50);
    const response = await get('p0');
    assert.equal(response.status, 200, response.body);
  });

  it('a refusal that is not retryable is passed on', async () => {
    const { get } = setup({ p0: { members: ['a'], leader: 'a' } }, { [urlOf('a')]: [error(400, 'BAD_REQUEST')] });
    const response = await get('p0');
    assert.equal(response.status, 400);
    assert.equal(response.headers['x-kv-partition'], 'p0');
  });
});
