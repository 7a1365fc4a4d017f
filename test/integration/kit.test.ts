import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { isValidName, type ClusterView } from '@kvstore/protocol';
import {
  fourLetterWord,
  freePort,
  get,
  isZooKeeperServing,
  kvGateArgs,
  kvServerArgs,
  ManagedProcess,
  parseMetricsText,
  privateZooKeeper,
  put,
  del,
  TcpProxy,
  tempDir,
  uniqueClusterName,
  unsettledReason,
  waitFor,
  waitForHealthy,
  zookeeperForTests,
} from '@kvstore/testkit';
import { nodeTestArgs } from '@kvstore/testkit/harness';

/** Starts `node -e <script>` as a managed child logging into a temp dir. */
function startNode(script: string, name = 'child'): Promise<ManagedProcess> {
  return ManagedProcess.start({ name, command: process.execPath, args: ['-e', script], logFile: path.join(tempDir('kit'), `${name}.log`) });
}

describe('waitFor', () => {
  test('returns the first truthy value', async () => {
    let calls = 0;
    assert.equal(await waitFor(() => (++calls >= 3 ? 'done' : undefined), { intervalMs: 1 }), 'done');
    assert.equal(calls, 3);
  });

  test('names what it waited for and the last error on timeout', async () => {
    await assert.rejects(
      waitFor(
        () => {
          throw new Error('still broken');
        },
        { timeoutMs: 50, intervalMs: 10, what: 'the moon' },
      ),
      /timed out after 50 ms waiting for the moon: last error: still broken/,
    );
  });
});

describe('parseMetricsText', () => {
  test('reads what prom-client writes, "Nan" among it, and refuses what Prometheus would not read', () => {
    const scrape = parseMetricsText(
      ['# HELP lag the lag', '# TYPE lag gauge', 'lag{replica="r1"} Nan', 'lag{replica="r2"} NaN', 'le_inf +Inf', 'count 3 1700000000000'].join('\n'),
    );
    assert.deepEqual(
      scrape.samples.map((sample) => sample.value),
      [NaN, NaN, Infinity, 3],
    );
    assert.equal(scrape.types.get('lag'), 'gauge');
    assert.throws(() => parseMetricsText('lag NotANumber'), /bad value in metrics line: lag NotANumber/);
    assert.throws(() => parseMetricsText('lag{replica="r1} 1'), /bad/);
  });
});

describe('command lines', () => {
  test('kvserver gets every given flag and nothing else', () => {
    const args = kvServerArgs({ zk: '127.0.0.1:2181', partition: 'p0', id: 'p0-r1', port: 4001, replication: 'async', fsync: false, writeTimeoutMs: 800, logFile: 'x', extraArgs: ['--max-keys', '5'] });
    assert.deepEqual(args, ['--zk', '127.0.0.1:2181', '--port', '4001', '--host', '127.0.0.1', '--write-timeout', '800', '--partition', 'p0', '--id', 'p0-r1', '--replication', 'async', '--fsync', 'off', '--max-keys', '5']);
  });

  test('kvgate', () => {
    assert.deepEqual(kvGateArgs({ zk: 'zk:2181', port: 3000, cluster: 'c1', clusterSecretFile: '/s', logFile: 'x' }), [
      '--zk',
      'zk:2181',
      '--port',
      '3000',
      '--host',
      '127.0.0.1',
      '--cluster',
      'c1',
      '--cluster-secret-file',
      '/s',
    ]);
  });
});

describe('nodeTestArgs', () => {
  test('every test a file ran is reported, however much it printed (node --test without --test-force-exit)', async () => {
    // Long names fill the pipe from the file's process to the runner, which
    // is when --test-force-exit loses the last results (nodejs/node#64833).
    const file = path.join(tempDir('node-test'), 'many.test.cjs');
    const tests = 200;
    fs.writeFileSync(file, `const { test } = require('node:test');\nfor (let i = 0; i < ${tests}; i++) test('t' + i + ' ' + 'x'.repeat(20000), () => {});\n`);
    // Without the variable that tells a test file it runs under a runner (this one does), so that it is a runner itself.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    for (let run = 0; run < 3; run++) {
      const { stdout } = await promisify(execFile)(process.execPath, nodeTestArgs({ concurrency: 1, timeoutMs: 60_000 }, [file]), { env, maxBuffer: 64 * 1024 * 1024 });
      const count = (name: string): number => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(stdout)?.[1]);
      assert.deepEqual({ tests: count('tests'), pass: count('pass') }, { tests, pass: tests }, `run ${run + 1}`);
    }
  });
});

describe('cluster names and views', () => {
  test('cluster names are unique and valid ZooKeeper path segments', () => {
    const names = new Set(Array.from({ length: 50 }, () => uniqueClusterName('kit test/with odd chars')));
    assert.equal(names.size, 50);
    for (const name of names) assert.ok(isValidName(name), name);
  });

  test('a view is settled once every partition has a leader and a full isr', () => {
    const expected = { partitions: new Map([['p0', ['a', 'b']]]) };
    const view = (leader: string | null, isr: string[], ring = ['p0']): ClusterView => ({
      cluster: 'c',
      ring: { version: 1, partitions: ring },
      partitions: [{ name: 'p0', epoch: 1, leader, isr, members: [] }],
    });
    assert.match(unsettledReason(view('a', ['a', 'b'], []), expected) ?? '', /not on the ring/);
    assert.match(unsettledReason(view(null, ['a', 'b']), expected) ?? '', /no leader/);
    assert.match(unsettledReason(view('a', ['a']), expected) ?? '', /missing b/);
    assert.equal(unsettledReason(view('a', ['b', 'a']), expected), undefined);
  });
});

describe('ZooKeeper', () => {
  test('the shared ZooKeeper serves and is memoised', async () => {
    const zookeeper = await zookeeperForTests();
    assert.equal(await zookeeperForTests(), zookeeper);
    assert.match(await fourLetterWord('127.0.0.1', zookeeper.port, 'srvr'), /^Mode: standalone$/m);
  });

  test('a private ZooKeeper can be killed and restarted with its data', async (t) => {
    const zookeeper = await privateZooKeeper();
    t.after(() => zookeeper.stop());
    assert.ok(zookeeper.owned);
    await zookeeper.kill();
    assert.equal(await isZooKeeperServing('127.0.0.1', zookeeper.port), false);
    await zookeeper.restart();
    assert.ok(await isZooKeeperServing('127.0.0.1', zookeeper.port));
    await zookeeper.stop();
    assert.equal(await isZooKeeperServing('127.0.0.1', zookeeper.port), false);
  });
});

describe('ManagedProcess', () => {
  test('logs output, pauses, resumes and stops with SIGTERM', async () => {
    // The log starts with the command line, so the marker is assembled at run time.
    const child = await startNode(`console.log(['hello', 'from', 'the', 'child'].join('-')); setInterval(() => {}, 1000)`);
    await waitFor(() => fs.readFileSync(child.logFile, 'utf8').includes('hello-from-the-child'), { what: 'the log line' });
    child.pause();
    child.resume();
    assert.deepEqual(await child.stop(1000), { code: null, signal: 'SIGTERM' });
    assert.equal(child.running, false);
    assert.equal(child.signal('SIGKILL'), false, 'an exited process is never signalled');
  });

  test('a paused process still stops', async () => {
    const child = await startNode('setInterval(() => {}, 1000)');
    child.pause();
    assert.deepEqual(await child.stop(2000), { code: null, signal: 'SIGTERM' });
  });

  test('stop falls back to SIGKILL when SIGTERM is ignored', async () => {
    const child = await startNode(`process.on('SIGTERM', () => {}); console.log(['handler', 'installed'].join('-')); setInterval(() => {}, 1000)`);
    await waitFor(() => fs.readFileSync(child.logFile, 'utf8').includes('handler-installed'), { what: 'the handler' });
    assert.deepEqual(await child.stop(200), { code: null, signal: 'SIGKILL' });
  });

  test('waitForHealthy waits for 200 on /healthz', async () => {
    const port = await freePort();
    const child = await startNode(
      `setTimeout(() => require('node:http').createServer((q, s) => { s.statusCode = q.url === '/healthz' ? 200 : 404; s.end(); }).listen(${port}, '127.0.0.1'), 300)`,
    );
    try {
      await waitForHealthy(child, `http://127.0.0.1:${port}`, 5000);
    } finally {
      await child.kill();
    }
  });

  test('waitForHealthy fails at once with the log tail when the process exits', async () => {
    const child = await startNode(`console.error('bad flag --bogus'); process.exit(2)`);
    await assert.rejects(waitForHealthy(child, `http://127.0.0.1:${await freePort()}`, 10_000), /exited with code 2[\s\S]*bad flag --bogus/);
  });
});

async function echoServer(): Promise<net.Server> {
  // The proxy resets its upstream connections when cut.
  const server = net.createServer((socket) => socket.on('error', () => undefined).pipe(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

async function roundTrip(port: number, text: string, timeoutMs = 1000): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  try {
    socket.write(text);
    const [data] = (await once(socket, 'data', { signal: AbortSignal.timeout(timeoutMs) })) as [Buffer];
    return data.toString();
  } finally {
    socket.destroy();
  }
}

describe('TcpProxy', () => {
  test('forwards, cuts, blackholes and restores', async (t) => {
    const server = await echoServer();
    t.after(() => server.close());
    const proxy = await TcpProxy.start((server.address() as net.AddressInfo).port);
    t.after(() => proxy.close());
    assert.equal(await roundTrip(proxy.port, 'one'), 'one');

    const open = net.connect(proxy.port, '127.0.0.1');
    await once(open, 'connect');
    await waitFor(() => proxy.connectionCount === 1, { what: 'the connection to be forwarded' });
    proxy.cut();
    open.on('error', () => undefined); // the reset
    await new Promise((resolve) => open.once('close', resolve));
    await assert.rejects(roundTrip(proxy.port, 'two'), 'a cut proxy refuses new connections');

    proxy.restore();
    assert.equal(await roundTrip(proxy.port, 'three'), 'three');

    // Closing the proxy at the end resets this connection.
    const held = net.connect(proxy.port, '127.0.0.1').on('error', () => undefined);
    t.after(() => held.destroy());
    await once(held, 'connect');
    proxy.blackhole();
    held.write('four');
    await assert.rejects(once(held, 'data', { signal: AbortSignal.timeout(300) }), 'no bytes move through a blackhole');
    proxy.restore();
    const [late] = (await once(held, 'data', { signal: AbortSignal.timeout(1000) })) as [Buffer];
    assert.equal(late.toString(), 'four');
  });

  test('lag holds client bytes in order, answers flow at once; restore delivers what is held; a reset drops it', async (t) => {
    // A target that greets on connect (an answer, never held) and records what reaches it.
    const received: string[] = [];
    const target = net.createServer((socket) => {
      const index = received.push('') - 1;
      socket.on('error', () => undefined).on('data', (chunk: Buffer) => (received[index] += chunk.toString()));
      socket.write('hello');
    });
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    t.after(() => target.close());
    const proxy = await TcpProxy.start((target.address() as net.AddressInfo).port);
    t.after(() => proxy.close());
    // Long, so that a loaded machine cannot pass bytes that were not held off as held, or the reverse.
    const lagMs = 1000;
    proxy.lag(lagMs);

    const slow = net.connect(proxy.port, '127.0.0.1').on('error', () => undefined);
    t.after(() => slow.destroy());
    const greeted = Date.now();
    await once(slow, 'data', { signal: AbortSignal.timeout(lagMs / 2) });
    assert.ok(Date.now() - greeted < lagMs, 'the answer is not held');
    const sentAt = Date.now();
    slow.write('a');
    slow.write('b');
    await waitFor(() => received[0] === 'ab', { intervalMs: 5, what: 'the held bytes' });
    assert.ok(Date.now() - sentAt >= lagMs - 5, `delivered after ${Date.now() - sentAt} ms, before the lag of ${lagMs} ms`);

    // Held bytes come out at once, in order, when the lag ends; later ones are not held.
    slow.write('c');
    await waitFor(() => proxy.heldBytes === 1, { intervalMs: 5, what: 'the proxy to hold a byte' });
    proxy.restore();
    await waitFor(() => received[0] === 'abc', { timeoutMs: lagMs / 2, intervalMs: 5, what: 'the held byte, at once' });
    assert.equal(proxy.heldBytes, 0);
    slow.write('d');
    await waitFor(() => received[0] === 'abcd', { timeoutMs: lagMs / 2, intervalMs: 5, what: 'bytes sent after restore' });

    // A reset drops what a lag holds and resets the client; new connections are still lagged.
    proxy.lag(lagMs);
    const dropped = net.connect(proxy.port, '127.0.0.1').on('error', () => undefined);
    await once(dropped, 'data');
    dropped.write('lost');
    await waitFor(() => proxy.heldBytes === 4, { intervalMs: 5, what: 'the proxy to hold the bytes' });
    const closed = new Promise((resolve) => dropped.once('close', resolve));
    proxy.resetConnections();
    await closed;
    assert.equal(proxy.connectionCount, 0);
    const later = net.connect(proxy.port, '127.0.0.1').on('error', () => undefined);
    t.after(() => later.destroy());
    await once(later, 'data');
    later.write('kept');
    await waitFor(() => received.length === 3 && received[2] === 'kept', { intervalMs: 5, what: 'a new lagged connection' });
    assert.equal(received[1], '', 'the held bytes of a reset connection never reach the target');
  });

  test('does not hold back small writes (no Nagle): a request in two parts is not kept waiting for an ack', async (t) => {
    // The target answers once both parts are in, so it has nothing to send
    // (and delays its ack) while it waits for the second; a proxy socket with
    // Nagle's algorithm on would hold that part until the ack, ~40 ms later.
    const target = net.createServer((socket) => {
      let got = '';
      socket.setNoDelay(true);
      socket.on('error', () => undefined).on('data', (chunk: Buffer) => {
        got += chunk.toString();
        if (got.length >= 2) socket.write((got = '').concat('ok'));
      });
    });
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    t.after(() => target.close());
    const proxy = await TcpProxy.start((target.address() as net.AddressInfo).port);
    t.after(() => proxy.close());
    const client = net.connect({ port: proxy.port, host: '127.0.0.1', noDelay: true });
    t.after(() => client.destroy());
    await once(client, 'connect');
    const took: number[] = [];
    for (let exchange = 0; exchange < 40; exchange++) {
      const answered = once(client, 'data');
      const started = performance.now();
      client.write('a');
      await setTimeout(2);
      client.write('b');
      await answered;
      took.push(performance.now() - started);
    }
    took.sort((a, b) => a - b);
    // The median, so that a stall of a loaded machine cannot fail it: with Nagle it is the delayed ack's 40 ms.
    assert.ok(took[20]! < 20, `an exchange took ${took[20]!.toFixed(1)} ms (median), as if the second part waited for an ack`);
  });

  test('keeps half-closed requests alive (ZooKeeper four-letter words)', async (t) => {
    const zookeeper = await zookeeperForTests();
    const proxy = await TcpProxy.start(zookeeper.port);
    t.after(() => proxy.close());
    assert.ok(await isZooKeeperServing('127.0.0.1', proxy.port));
  });
});

describe('http helpers', () => {
  test('encode keys, send bodies and queries, parse JSON', async (t) => {
    const seen: { method?: string; url?: string; body: string }[] = [];
    const server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ method: request.method, url: request.url, body });
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ ok: true }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => server.close());
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

    const answer = await put(base, 'a/b c?', 'value', { query: { ttl: 5 } });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { ok: true });
    await get(base, 'ключ', { consistency: 'eventual' });
    await del(base, 'k');
    assert.deepEqual(seen, [
      { method: 'PUT', url: '/v1/kv/a%2Fb%20c%3F?ttl=5', body: 'value' },
      { method: 'GET', url: `/v1/kv/${encodeURIComponent('ключ')}?consistency=eventual`, body: '' },
      { method: 'DELETE', url: '/v1/kv/k', body: '' },
    ]);
  });
});
