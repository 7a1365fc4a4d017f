import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, runKvctl, startCluster, tempDir } from '@kvstore/testkit';

const kvctl = runKvctl;

test('kvctl against a real cluster', async (t) => {
  const cluster = await startCluster({ name: 'kvctl', partitions: 2, replicas: 2, persistent: false });
  t.after(() => cluster.stop());
  const host = cluster.gateUrls[0]!.replace('http://', '');
  const deadHost = `127.0.0.1:${await freePort()}`;
  const env = { KVCTL_HISTORY: join(tempDir('kvctl'), 'history') };

  await t.test('put, get and delete with exit codes 0 and 1', async () => {
    const put = await kvctl(['--host', host, 'put', 'greeting', 'hello world'], { env });
    assert.equal(put.code, 0, put.stderr);
    const got = await kvctl(['--host', host, 'get', 'greeting'], { env });
    assert.equal(got.code, 0);
    assert.equal(got.stdout.toString(), 'hello world', 'exact bytes, no newline when not on a terminal');
    const json = await kvctl(['--host', host, 'get', '--json', 'greeting'], { env });
    const parsed = JSON.parse(json.stdout.toString()) as { value: string; version: number; partition: string };
    assert.equal(parsed.value, 'hello world');
    assert.ok(parsed.version > 0);
    assert.match(parsed.partition, /^p[01]$/);
    assert.equal((await kvctl(['--host', host, 'delete', 'greeting'], { env })).code, 0);
    const missing = await kvctl(['--host', host, 'get', 'greeting'], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NOT_FOUND/);
    assert.equal(missing.stderr.trim().split('\n').length, 1, 'errors are one line');
  });

  await t.test('a binary value from stdin round-trips byte for byte', async () => {
    const value = Buffer.from([0, 255, 10, 13, 1, 2, 3]);
    assert.equal((await kvctl(['--host', host, 'put', 'binary', '-'], { stdin: value, env })).code, 0);
    assert.deepEqual((await kvctl(['--host', host, 'get', 'binary'], { env })).stdout, value);
  });

  await t.test('usage errors exit 2, refusals 4, no gate 3', async () => {
    assert.equal((await kvctl(['--host', host, 'frobnicate'], { env })).code, 2);
    assert.equal((await kvctl(['--host', host, 'get'], { env })).code, 2);
    assert.equal((await kvctl(['--host', host, 'get', 'a', 'b'], { env })).code, 2);
    assert.equal((await kvctl(['--host', host, '--bogus', 'get', 'a'], { env })).code, 2);
    const refused = await kvctl(['--host', host, 'put', '--if-match', '424242', 'nokey', 'v'], { env });
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /PRECONDITION_FAILED/);
    const unavailable = await kvctl(['--host', deadHost, 'get', 'a'], { env });
    assert.equal(unavailable.code, 3);
  });

  await t.test('--host fails over to the next gate, and KV_HOST takes a list', async () => {
    assert.equal((await kvctl(['--host', deadHost, '--host', host, 'put', 'failover', 'ok'], { env })).code, 0);
    const got = await kvctl(['get', 'failover'], { env: { ...env, KV_HOST: `${deadHost},${host}` } });
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout.toString(), 'ok');
  });

  await t.test('cluster status as a table and as JSON', async () => {
    const table = await kvctl(['--host', host, 'cluster', 'status'], { env });
    assert.equal(table.code, 0, table.stderr);
    for (const word of ['p0', 'p1', 'p0-r1', 'p1-r2']) assert.match(table.stdout.toString(), new RegExp(word));
    const json = JSON.parse((await kvctl(['--host', host, 'cluster', 'status', '--json'], { env })).stdout.toString());
    assert.equal(json.partitions.length, 2);
    assert.equal(json.cluster, cluster.name);
  });

  await t.test('the interactive shell driven through stdin keeps going after an error', async () => {
    const script = ['put shell-key "two words"', 'get no-such-key', 'get shell-key', 'frobnicate', 'delete shell-key', 'help', 'exit', 'put never run'].join('\n');
    const run = await kvctl(['--host', host, '-i'], { stdin: script, env });
    assert.equal(run.code, 0, run.stderr);
    const output = run.stdout.toString();
    assert.match(output, /kv> /);
    assert.match(output, /two words/);
    assert.match(run.stderr, /NOT_FOUND/);
    const after = await kvctl(['--host', host, 'get', 'never'], { env });
    assert.equal(after.code, 1, 'lines after exit are not run');
  });
});
