import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { notFound, slotOf, unavailable, type ClusterView } from '@kvstore/protocol';
import { Registry } from 'prom-client';
import request from 'supertest';
import { createApp } from '../src/http/app';
import type { ForwardRequest, ForwardResult } from '../src/proxy/forwarder';
import { RoutingTable } from '../src/routing/routing-table';
import { GateMetrics } from '../src/metrics/gate-metrics';
import { UI_DIR, type KeyLookup } from '../src/ui/ui-routes';
import type { UiView } from '../src/ui/ui-view';
import { startWebView } from '../src/ui/web-view';
import { snapshotOf } from './fixtures';

const clusterView: ClusterView = { cluster: 'c', ring: { version: 1, partitions: ['p0'] }, partitions: [] };
const uiView: UiView = { cluster: 'c', builtAt: 1, ring: { version: 1, sealed: false, partitions: ['p0'], runs: [[0, 0]] }, partitions: [], migration: null, problems: [] };
const table = new RoutingTable(snapshotOf({ p0: { members: ['a', 'b', 'c'], leader: 'a' } }));

function appWith(answer: (forwarded: ForwardRequest) => ForwardResult, metrics?: GateMetrics) {
  const seen: ForwardRequest[] = [];
  const forwarder = {
    forward: async (forwarded: ForwardRequest) => {
      seen.push(forwarded);
      return answer(forwarded);
    },
  };
  const app = createApp({
    forwarder,
    maxValueBytes: 1024,
    clusterView: async () => clusterView,
    readiness: () => ({ ready: true, reason: 'ok' }),
    ui: { view: async () => uiView, routing: { table: () => table }, forwarder },
    ...(metrics ? { metrics } : {}),
  });
  return { app, seen };
}

const value = (body: Buffer): ForwardResult => ({
  ok: true,
  partition: 'p0',
  replica: 'b',
  response: { ok: true, replica: 'b', version: 42, contentType: 'application/octet-stream', body },
});
const missing = (): ForwardResult => ({ ok: false, partition: 'p0', replica: 'b', error: notFound('no such key') });

describe('web view: static files', () => {
  it('tells the page no one need sign in with --auth off, and offers no sign-in', async () => {
    const { app } = appWith(() => value(Buffer.alloc(0)));
    assert.deepEqual((await request(app).get('/v1/ui/session')).body, { auth: false, user: null });
    assert.equal((await request(app).post('/v1/ui/session')).status, 404);
  });

  it('ships its files in the package, where the compiled gate finds them', () => {
    for (const file of ['index.html', 'app.js', 'style.css']) assert.ok(fs.existsSync(path.join(UI_DIR, file)), `${file} in ${UI_DIR}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(UI_DIR, '..', 'package.json'), 'utf8')) as { files: string[] };
    assert.ok(manifest.files.includes('ui'));
  });

  it('leads / to /ui/ and serves the page, its script and style with their types, revalidated at each load', async () => {
    const { app } = appWith(() => value(Buffer.alloc(0)));
    const root = await request(app).get('/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, '/ui/');
    const bare = await request(app).get('/ui');
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, '/ui/');
    const expected: [string, RegExp][] = [
      ['/ui/', /^text\/html/],
      ['/ui/app.js', /^(text|application)\/javascript/],
      ['/ui/style.css', /^text\/css/],
    ];
    for (const [url, type] of expected) {
      const response = await request(app).get(url);
      assert.equal(response.status, 200, url);
      assert.match(String(response.headers['content-type']), type, url);
      assert.equal(response.headers['cache-control'], 'no-cache', url);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
      assert.ok(response.headers.etag, `${url} has a validator`);
    }
  });

  it('answers a file it does not have, or a path out of its directory, with the JSON 404', async () => {
    const { app } = appWith(() => value(Buffer.alloc(0)));
    for (const url of ['/ui/nothing.js', '/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json']) {
      const response = await request(app).get(url);
      assert.ok(response.status === 404 || response.status === 403 || response.status === 400, `${url}: ${response.status}`);
      assert.doesNotMatch(response.text, /"name"\s*:\s*"@kvstore\/kvgate"/, url);
    }
    assert.equal((await request(app).get('/ui/nothing.js')).body.error.code, 'NOT_FOUND');
  });
});

describe('web view: /v1/ui/view', () => {
  it('serves the cached view, not to be cached by the browser', async () => {
    const { app } = appWith(() => value(Buffer.alloc(0)));
    const response = await request(app).get('/v1/ui/view');
    assert.equal(response.status, 200);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.deepEqual(response.body, uiView);
  });
});

describe('web view: the gate\'s wiring', () => {
  it('asks the replicas at most once a second for many browsers polling at once, and shows the ring and the leaders', async (t) => {
    const snapshot = snapshotOf({ p0: { members: ['a', 'b', 'c'], leader: 'a' }, p1: { members: ['d', 'e', 'f'], leader: 'e' } });
    let builds = 0;
    const webView = startWebView({
      registry: new Registry(),
      routing: { snapshot: () => snapshot, table: () => new RoutingTable(snapshot) },
      forwarder: { forward: async () => value(Buffer.alloc(0)) },
      clusterView: async () => {
        builds++;
        const partitions = [...snapshot.partitions].map(([name, records]) => ({
          name,
          epoch: 1,
          leader: records.leader!.id,
          isr: records.state!.isr,
          members: records.members.map(({ id, url }) => ({ id, url, role: id === records.leader!.id ? ('leader' as const) : ('follower' as const), lastSeq: 3, lag: 0 })),
        }));
        return { cluster: 'c', ring: { version: 1, partitions: ['p0', 'p1'], slots: { p0: 2048, p1: 2048 } }, partitions };
      },
    });
    t.after(() => webView.stop());
    webView.observe(snapshot);
    const app = createApp({ forwarder: { forward: async () => value(Buffer.alloc(0)) }, maxValueBytes: 1024, clusterView: async () => clusterView, readiness: () => ({ ready: true, reason: 'ok' }), ui: webView.deps });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 30 }, () => request(app).get('/v1/ui/view')));
    // One build, unless this machine took over a second to answer them all.
    assert.ok(builds <= 1 + Math.floor((Date.now() - started) / 1000), `${builds} builds`);
    const view = answers[0]!.body as UiView;
    assert.ok(answers.every((answer) => answer.status === 200));
    assert.deepEqual(view.partitions.map((p) => [p.name, p.leader, p.health]), [['p0', 'a', 'ok'], ['p1', 'e', 'ok']]);
    assert.deepEqual(view.ring.partitions, ['p0', 'p1']);
    assert.ok(view.ring.runs.length > 1);
  });
});

describe('web view: /v1/ui/key', () => {
  it('places the key and reads it through the forwarder with the consistency asked for', async () => {
    const { app, seen } = appWith(() => value(Buffer.from('hello')));
    const response = await request(app).get('/v1/ui/key').query({ key: 'user:1', consistency: 'eventual' });
    assert.equal(response.status, 200);
    const lookup = response.body as KeyLookup;
    assert.deepEqual(lookup, {
      key: 'user:1',
      slot: slotOf('user:1'),
      partition: 'p0',
      ringVersion: 1,
      leader: 'a',
      replicas: ['a', 'b', 'c'],
      consistency: 'eventual',
      read: { status: 200, replica: 'b', version: 42, value: { bytes: 5, encoding: 'utf8', preview: 'hello', truncated: false }, error: null },
    });
    assert.deepEqual(
      seen.map(({ method, key, consistency }) => ({ method, key, consistency })),
      [{ method: 'GET', key: 'user:1', consistency: 'eventual' }],
    );
  });

  it('shows a value that is not UTF-8 as base64, and a long one cut at a character', async () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const { app: binaryApp } = appWith(() => value(binary));
    const shown = (await request(binaryApp).get('/v1/ui/key').query({ key: 'k' })).body as KeyLookup;
    assert.deepEqual(shown.read.value, { bytes: 4, encoding: 'base64', preview: binary.toString('base64'), truncated: false });

    const long = Buffer.from(`${'a'.repeat(4095)}é and more`);
    const { app: longApp } = appWith(() => value(long));
    const cut = (await request(longApp).get('/v1/ui/key').query({ key: 'k' })).body as KeyLookup;
    assert.equal(cut.read.value!.encoding, 'utf8');
    assert.equal(cut.read.value!.truncated, true);
    assert.equal(cut.read.value!.preview, 'a'.repeat(4095), 'the half of é at byte 4096 is held back');
  });

  it('says what a read of a missing key or a partition without a leader answered', async () => {
    const { app } = appWith(missing);
    const lookup = (await request(app).get('/v1/ui/key').query({ key: 'k' })).body as KeyLookup;
    assert.deepEqual(lookup.read, { status: 404, replica: 'b', version: null, value: null, error: { code: 'NOT_FOUND', message: 'no such key' } });

    const { app: down } = appWith(() => ({ ok: false, partition: 'p0', error: unavailable('partition p0 has no leader') }));
    const refused = (await request(down).get('/v1/ui/key').query({ key: 'k' })).body as KeyLookup;
    assert.deepEqual(refused.read, { status: 503, replica: null, version: null, value: null, error: { code: 'UNAVAILABLE', message: 'partition p0 has no leader' } });
  });

  it('refuses a missing, repeated or oversized key and a bad consistency with 400, and reads nothing', async () => {
    const { app, seen } = appWith(() => {
      throw notFound('must not be called');
    });
    for (const query of ['', '?key=', '?key=a&key=b', `?key=${'x'.repeat(1025)}`, '?key=a&consistency=linear']) {
      const response = await request(app).get(`/v1/ui/key${query}`);
      assert.equal(response.status, 400, `${query}: ${response.text}`);
      assert.equal(response.body.error.code, 'BAD_REQUEST');
    }
    assert.deepEqual(seen, []);
  });
});

describe('the request histogram', () => {
  it('observes each answered /v1/kv request by route, method, code and partition', async () => {
    const metrics = new GateMetrics({ routingVersion: () => undefined, connections: () => new Map() });
    const { app } = appWith((forwarded) => (forwarded.key === 'gone' ? missing() : value(Buffer.from('v'))), metrics);
    await request(app).get('/v1/kv/here');
    await request(app).get('/v1/kv/gone');
    await request(app).get('/v1/kv/here?consistency=bogus');
    const text = await metrics.registry.metrics();
    assert.match(text, /kvstore_gate_request_duration_seconds_count\{route="kv",method="GET",code="200",partition="p0"\} 1/);
    assert.match(text, /kvstore_gate_request_duration_seconds_count\{route="kv",method="GET",code="404",partition="p0"\} 1/);
    assert.match(text, /kvstore_gate_request_duration_seconds_count\{route="kv",method="GET",code="400",partition=""\} 1/);
  });
});
