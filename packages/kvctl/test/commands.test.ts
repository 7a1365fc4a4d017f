import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGate, SAMPLE_CLUSTER, refusingHost } from '@kvstore/kvclient/testing';
import { runKvctl, type RunOptions } from './harness';

describe('kvctl commands', () => {
  let gate: FakeGate;
  const kvctl = (argv: string[], options: RunOptions = {}) => runKvctl(['--host', gate.host, ...argv], options);

  before(async () => {
    gate = await FakeGate.start({ maxValueBytes: 64 });
  });
  after(() => gate.close());
  beforeEach(() => {
    gate.fault = null;
  });

  test('put prints the version; get writes the exact bytes, no newline unless on a terminal', async () => {
    const put = await kvctl(['put', 'greeting', 'hello']);
    assert.equal(put.code, 0);
    assert.equal(put.exitedWith, 0);
    assert.match(put.stdout.toString(), /^\d+\n$/);

    const piped = await kvctl(['get', 'greeting']);
    assert.deepEqual(piped.stdout, Buffer.from('hello'));
    assert.equal(piped.stderr, '');
    const terminal = await kvctl(['get', 'greeting'], { isTTY: true });
    assert.equal(terminal.stdout.toString(), 'hello\n');
  });

  test('a value comes from piped stdin, from "-", or from --file, byte for byte', async () => {
    const binary = Buffer.from([0, 1, 2, 255, 254, 10]);
    assert.equal((await kvctl(['put', 'piped'], { stdin: binary })).code, 0);
    assert.deepEqual((await kvctl(['get', 'piped'])).stdout, binary);

    assert.equal((await kvctl(['put', 'dash', '-'], { stdin: 'from dash' })).code, 0);
    assert.equal((await kvctl(['get', 'dash'])).stdout.toString(), 'from dash');

    const file = join(mkdtempSync(join(tmpdir(), 'kvctl-')), 'value.bin');
    writeFileSync(file, binary);
    assert.equal((await kvctl(['put', 'filed', '--file', file])).code, 0);
    assert.deepEqual((await kvctl(['get', 'filed'])).stdout, binary);
  });

  test('get --json shows text values as text and other bytes as base64', async () => {
    await kvctl(['put', 'text', 'héllo']);
    const text = JSON.parse((await kvctl(['get', 'text', '--json', '--consistency', 'eventual'])).stdout.toString());
    assert.deepEqual(Object.keys(text), ['key', 'value', 'version', 'partition', 'replica']);
    assert.equal(text.value, 'héllo');
    assert.equal(text.partition, 'p0');

    await kvctl(['put', 'bytes'], { stdin: Buffer.from([0xc3, 0x28]) });
    const bytes = JSON.parse((await kvctl(['get', 'bytes', '--json'])).stdout.toString());
    assert.equal(bytes.encoding, 'base64');
    assert.deepEqual(Buffer.from(bytes.value, 'base64'), Buffer.from([0xc3, 0x28]));
  });

  test('delete and conditional writes', async () => {
    const version = (await kvctl(['put', 'cas', 'a', '--if-none-match'])).stdout.toString().trim();
    assert.equal((await kvctl(['put', 'cas', 'b', '--if-match', version, '--ttl', '30'])).code, 0);
    assert.equal((await kvctl(['delete', 'cas'])).stdout.toString(), 'deleted\n');
    const again = await kvctl(['delete', 'cas']);
    assert.equal(again.code, 0);
    assert.equal(again.stdout.toString(), 'absent\n');
  });

  test('exit 1 when the key is not found, with one line on stderr', async () => {
    const result = await kvctl(['get', 'nothing-here']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout.length, 0);
    assert.equal(result.stderr, 'kvctl: NOT_FOUND: key not found\n');
  });

  test('exit 2 for bad usage, each reported in one line', async () => {
    const cases: Array<[string[], RunOptions?]> = [
      [['bogus']],
      [[]],
      [['get']],
      [['get', 'a', 'b']],
      [['get', 'a', '--bogus']],
      [['--bogus', 'get', 'a']],
      [['cluster']],
      [['cluster', 'bogus']],
      [['put', 'k', 'v', '--ttl', 'soon']],
      [['put', 'k', 'v', '--if-match', 'x']],
      [['get', 'k', '--consistency', 'maybe']],
      [['put', 'k'], { stdinIsTTY: true }],
      [['put', 'k', 'v', '--file', '/nonexistent/value']],
      [['put', 'k', '--file', '/nonexistent/value']],
      [['--timeout', '0', 'get', 'k']],
    ];
    for (const [argv, options] of cases) {
      const result = await kvctl(argv, options);
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^kvctl: USAGE: [^\n]+\n$/, argv.join(' '));
    }
    assert.equal((await runKvctl(['get', 'k'], { env: { KV_HOST: 'ftp://nowhere' } })).code, 2);
  });

  test('help is not a failure', async () => {
    const result = await kvctl(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout.toString(), /Usage: kvctl/);
    assert.equal((await kvctl(['help', 'put'])).code, 0);
  });

  test('exit 3 when no gate answers or the cluster cannot serve (503, 504)', async () => {
    const nobody = await runKvctl(['--host', await refusingHost(), 'get', 'k']);
    assert.equal(nobody.code, 3);
    assert.match(nobody.stderr, /^kvctl: UNAVAILABLE: no gate answered \([^\n]*ECONNREFUSED\)\n$/);
    for (const code of ['UNAVAILABLE', 'TIMEOUT'] as const) {
      gate.fault = { kind: 'error', code, message: 'partition p0 has no leader' };
      const result = await kvctl(['put', 'k', 'v']);
      assert.equal(result.code, 3, code);
      assert.equal(result.stderr, `kvctl: ${code}: partition p0 has no leader\n`);
    }
  });

  test('exit 4 when the server refuses (400, 412, 413)', async () => {
    assert.equal((await kvctl(['get', ''])).code, 4);
    assert.equal((await kvctl(['put', 'k', 'v', '--if-match', '999999'])).code, 4);
    const tooLarge = await kvctl(['put', 'k'], { stdin: Buffer.alloc(65) });
    assert.equal(tooLarge.code, 4);
    assert.match(tooLarge.stderr, /^kvctl: PAYLOAD_TOO_LARGE: /);
  });

  test('keys . and .. and keys with / ? # % are reachable', async () => {
    const keys = ['.', '..', 'a/../b', '?#%'];
    for (const key of keys) assert.equal((await kvctl(['put', key, `value of ${key}`])).code, 0, key);
    for (const key of keys) assert.equal((await kvctl(['get', key])).stdout.toString(), `value of ${key}`, key);
    assert.ok(gate.requests.includes('PUT /v1/kv/%2E%2E'));
    assert.equal((await kvctl(['delete', '.'])).stdout.toString(), 'deleted\n');
    assert.equal(gate.entries.has('.'), false);
    assert.equal(gate.entries.has('..'), true);
  });

  test('a key with a lone surrogate is refused before anything is sent (exit 4)', async () => {
    const sent = gate.requests.length;
    for (const argv of [['put', 'a\ud800', 'v'], ['get', '\udfff'], ['delete', 'x\ud83d']]) {
      const result = await kvctl(argv);
      assert.equal(result.code, 4, argv.join(' '));
      assert.match(result.stderr, /^kvctl: BAD_REQUEST: key is not well-formed Unicode: it has a lone surrogate [^\n]*\n$/);
    }
    assert.equal(gate.requests.length, sent);
  });

  test('hosts: --host repeats and fails over; KV_HOST gives the default', async () => {
    const refusing = await refusingHost();
    assert.equal((await runKvctl(['--host', refusing, '--host', gate.host, 'put', 'h', 'v'])).code, 0);
    const fromEnv = await runKvctl(['get', 'h'], { env: { KV_HOST: `${refusing},${gate.host}` } });
    assert.equal(fromEnv.stdout.toString(), 'v');
  });

  test('cluster status prints an aligned table, or the view with --json', async () => {
    const table = (await kvctl(['cluster', 'status'])).stdout.toString().split('\n');
    assert.equal(table[0], 'cluster default, ring version 2 (sealed), 2 partition(s)');
    const header = table[2]!;
    assert.match(header, /^PARTITION\s+SLOTS\s+EPOCH\s+LEADER\s+IN-SYNC\s+MEMBER\s+ROLE\s+LAST-SEQ\s+LAG\s+URL$/);
    assert.match(table[3]!, /^p0\s+2050\s+3\s+r1\s+r1,r2\s+r1\s+leader\s+42\s+0\s+http:\/\/127\.0\.0\.1:4001$/);
    assert.match(table[5]!, /^p0 .* r3\s+follower\s+-\s+-\s+http/);
    assert.match(table[6]!, /^p1\s+2046\s+1\s+-\s+-\s+-\s+\(no live replica\)/);
    const memberColumn = header.indexOf('MEMBER');
    assert.ok(table.slice(3, 7).every((row) => row[memberColumn - 1] === ' ' && row[memberColumn] !== ' '));

    const json = await kvctl(['cluster', 'status', '--json']);
    assert.deepEqual(JSON.parse(json.stdout.toString()), SAMPLE_CLUSTER);
  });

  test('cluster status names each malformed record in ZooKeeper on a line of its own, after the table', async (t) => {
    const problem = { path: '/kvstore/default/partitions/p0/state', error: 'malformed state record: not JSON' };
    gate.cluster = { ...SAMPLE_CLUSTER, problems: [problem] };
    t.after(() => (gate.cluster = SAMPLE_CLUSTER));
    const lines = (await kvctl(['cluster', 'status'])).stdout.toString().split('\n');
    assert.deepEqual(lines.slice(-3), ['', `malformed record at ${problem.path}: ${problem.error}`, '']);
    assert.match(lines.at(-4)!, /^p1\s/, 'after the last row of the table');
  });
});
