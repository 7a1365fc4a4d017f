import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { get, parseMetricsText, put, request, runKvctl, startCluster, waitFor, type HttpResult } from '@kvstore/testkit';

const HEADERS_TIMEOUT_MS = 1000;
const LISTENER_LIMITS = ['--headers-timeout', String(HEADERS_TIMEOUT_MS), '--request-timeout', '2000'];
/** A request of a user that has spent its burst is refused until a token comes back a second later. */
const RATE = ['--rate-limit', '1', '--rate-burst', '10'];

/** What a raw client saw before the server closed its connection, and how long that took. */
interface RawOutcome {
  answer: string;
  ms: number;
}

/**
 * Opens a connection to `port`, writes `first`, then (with `dripMs`) one more
 * header byte every `dripMs`, as a slow-loris client does; resolves once the
 * server has closed the connection.
 */
async function rawClient(port: number, first: string, dripMs?: number): Promise<RawOutcome> {
  const socket = net.connect(port, '127.0.0.1');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const started = performance.now();
  socket.write(first);
  const drip = dripMs === undefined ? undefined : setInterval(() => socket.destroyed || socket.write('x'), dripMs);
  await closed;
  clearInterval(drip);
  return { answer, ms: performance.now() - started };
}

function errorCode(result: HttpResult): string | undefined {
  return (result.json as { error?: { code?: string } } | undefined)?.error?.code;
}

test('limits: per-user request rate on the gate, slow clients and large headers on every listener', async (t) => {
  const cluster = await startCluster({
    name: 'limits',
    partitions: 1,
    replicas: 1,
    gates: 1,
    persistent: false,
    auth: true,
    gateArgs: [...RATE, ...LISTENER_LIMITS],
    serverArgs: LISTENER_LIMITS,
  });
  t.after(() => cluster.stop());
  const gateUrl = cluster.gateUrls[0]!;
  const gatePort = Number(new URL(gateUrl).port);
  const replica = (await cluster.leaderOf('p0'))!;
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  /** The admin shares the rate limit too: starting the cluster spent some of its budget, so a 429 is waited out. */
  const addUser = async (user: string): Promise<string> => {
    const run = await waitFor(async () => {
      const attempt = await runKvctl(['--host', gateUrl, '--token-file', cluster.adminTokenFile!, 'user', 'add', user, '--role', 'readwrite']);
      return attempt.code === 0 && attempt;
    }, { what: `kvctl user add ${user}`, timeoutMs: 20_000, intervalMs: 500 });
    const token = run.stdout.toString().split('\n')[0]!;
    await waitFor(async () => (await get(gateUrl, 'nothing', bearer(token))).status === 404, { what: `${user}'s token to work` });
    // The replica checks it too (once, then from its cache): not while a test counts the time a bucket takes to refill.
    await waitFor(async () => (await get(replica.url, 'nothing', bearer(token))).status === 404, { what: `${user}'s token to work at the replica` });
    return token;
  };
  const alice = await addUser('alice');
  const bob = await addUser('bob');

  await t.test('a user over the rate gets 429 with Retry-After, and nothing refused is written', async () => {
    const written = new Map<string, number>();
    for (let n = 0; n < 40; n++) written.set(`alice/${n}`, (await put(gateUrl, `alice/${n}`, 'v', bearer(alice))).status);
    const refused = [...written].filter(([, status]) => status === 429);
    assert.ok(refused.length > 0, `40 writes at once over a rate of 1/s with a burst of 10 must meet a 429: ${[...written.values()].join(' ')}`);
    assert.ok([...written.values()].every((status) => status === 200 || status === 429));
    const last = await put(gateUrl, 'alice/last', 'v', bearer(alice));
    assert.equal(last.status, 429);
    assert.equal(errorCode(last), 'TOO_MANY_REQUESTS');
    assert.ok(Number(last.headers.get('retry-after')) >= 1, `Retry-After: ${last.headers.get('retry-after')}`);
    written.set('alice/last', 429);
    // Read at the replica itself (which checks the same token): the gate would count these reads too.
    const readBack = await Promise.all([...written].map(async ([key, status]) => [key, status, (await get(replica.url, key, bearer(alice))).status] as const));
    for (const [key, status, found] of readBack) assert.equal(found, status === 200 ? 200 : 404, `${key} was answered ${status}`);
    const scrape = parseMetricsText((await request('GET', `${gateUrl}/metrics`, bearer(cluster.adminToken()!))).body.toString());
    const counted = scrape.samples.find((sample) => sample.name === 'kvstore_gate_rate_limited_total' && sample.labels.reason === 'rate');
    assert.ok((counted?.value ?? 0) >= refused.length + 1, `kvstore_gate_rate_limited_total{reason="rate"} is ${counted?.value}`);
  });

  await t.test('two users have separate budgets', async () => {
    // Twenty at once: however slow the machine, a bucket of 10 refilling at 1/s cannot pass them all.
    const again = await Promise.all(Array.from({ length: 20 }, (_, n) => put(gateUrl, `alice/again/${n}`, 'v', bearer(alice))));
    assert.ok(again.some((result) => result.status === 429), `alice has spent hers: ${again.map((result) => result.status).join(' ')}`);
    for (let n = 0; n < 5; n++) assert.equal((await put(gateUrl, `bob/${n}`, 'v', bearer(bob))).status, 200, `bob's write ${n}`);
  });

  for (const [name, port] of [['the gate', gatePort], ["a replica's port", replica.port]] as const) {
    await t.test(`a slow-loris client of ${name} is cut off after --headers-timeout, which keeps serving`, async () => {
      const outcome = await rawClient(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 100);
      assert.match(outcome.answer, /^HTTP\/1\.1 408 /);
      assert.ok(outcome.ms >= HEADERS_TIMEOUT_MS * 0.9 && outcome.ms < HEADERS_TIMEOUT_MS + 3000, `closed after ${Math.round(outcome.ms)} ms`);
      assert.equal((await request('GET', `http://127.0.0.1:${port}/healthz`)).status, 200);
    });

    await t.test(`a 64 KiB header gets 431 from ${name}, which keeps serving`, async () => {
      const outcome = await rawClient(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      assert.match(outcome.answer, /^HTTP\/1\.1 431 /);
      assert.equal((await request('GET', `http://127.0.0.1:${port}/healthz`)).status, 200);
    });
  }
});
