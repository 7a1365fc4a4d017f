import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeGate, SAMPLE_CLUSTER } from '@kvstore/kvclient/testing';
import { chosenFormat, render, type Rendering } from '../src/output';
import { kvctlAt, runKvctl } from './harness';

const PAIRS: Rendering<Array<[string, string]>> = {
  columns: ['NAME', 'VALUE'],
  rows: (pairs) => pairs.map(([name, value]) => [name, value]),
  text: (pairs) => `${pairs.length} pairs`,
};

describe('render', () => {
  const pairs: Array<[string, string]> = [['a', '1'], ['longer', 'tab\there\nand a \\ newline']];

  test('table: a header and columns aligned two spaces apart, no trailing blanks', () => {
    assert.equal(render([['a', '1'], ['longer', '22']], PAIRS, 'table'), 'NAME    VALUE\na       1\nlonger  22\n');
    assert.equal(render([], PAIRS, 'table'), 'NAME  VALUE\n', 'no rows: the header alone');
  });

  test('plain: tab-separated rows without a header; tab, newline and backslash escaped', () => {
    assert.equal(render(pairs, PAIRS, 'plain'), 'a\t1\nlonger\ttab\\there\\nand a \\\\ newline\n');
    assert.equal(render([], PAIRS, 'plain'), '', 'no rows: nothing');
  });

  test('json: the value itself on one line, or what the rendering says', () => {
    assert.deepEqual(JSON.parse(render(pairs, PAIRS, 'json')), pairs);
    assert.equal(render(pairs, PAIRS, 'json').split('\n').length, 2);
    assert.equal(render(pairs, { ...PAIRS, json: (value) => value.length }, 'json'), '2\n');
  });

  test("no --output: the rendering's text, else its table", () => {
    assert.equal(render(pairs, PAIRS, undefined), '2 pairs\n');
    assert.equal(render([['a', '1']], { ...PAIRS, text: undefined }, undefined), 'NAME  VALUE\na     1\n');
  });

  test('--json is --output json; with another --output it is refused', () => {
    assert.equal(chosenFormat({ json: true }), 'json');
    assert.equal(chosenFormat({ json: true, output: 'json' }), 'json');
    assert.equal(chosenFormat({ output: 'plain' }), 'plain');
    assert.equal(chosenFormat({}), undefined);
    assert.throws(() => chosenFormat({ json: true, output: 'table' }), { name: 'UsageError' });
  });
});

describe('kvctl --output', () => {
  let gate: FakeGate;
  const { kvctl, out } = kvctlAt(() => gate.host);

  before(async () => {
    gate = await FakeGate.start();
  });
  after(() => gate.close());
  beforeEach(() => {
    gate.migration = null;
  });

  test('put: the version by default; a table, a plain row or JSON when asked, before or after the command', async () => {
    assert.match(await out(['put', 'k', 'v']), /^\d+\n$/);
    const table = (await out(['put', 'k', 'v', '--output', 'table'])).split('\n');
    assert.match(table[0]!, /^KEY\s+VERSION$/);
    assert.match(table[1]!, /^k\s+\d+$/);
    const version = Number((await out(['-o', 'plain', 'put', 'k', 'v'])).split('\t')[1]);
    assert.deepEqual(JSON.parse(await out(['put', 'k', 'v', '--json'])), { key: 'k', version: version + 1 });
    assert.deepEqual(JSON.parse(await out(['--output=json', 'put', 'k', 'v'])), { key: 'k', version: version + 2 });
  });

  test('get: the exact bytes by default; with --output its version, partition, replica and value', async () => {
    await out(['put', 'text', 'two\twords']);
    const [key, version, partition, replica, encoding, value] = (await out(['get', 'text', '-o', 'plain'])).trimEnd().split('\t');
    assert.deepEqual([key, partition, replica, encoding, value], ['text', 'p0', 'fake-r1', 'utf8', 'two\\twords']);
    assert.match(version!, /^\d+$/);
    await out(['put', 'bytes'], { stdin: Buffer.from([0xc3, 0x28]) });
    assert.match(await out(['get', 'bytes', '-o', 'table']), /\nbytes\s+\d+\s+p0\s+fake-r1\s+base64\s+wyg=\n$/);
    assert.deepEqual(JSON.parse(await out(['get', 'bytes', '--json'])).encoding, 'base64');
  });

  test('delete: deleted or absent by default; its fields in a row when asked', async () => {
    await out(['put', 'gone', 'v']);
    assert.match(await out(['delete', 'gone', '-o', 'plain']), /^gone\ttrue\t\d+\n$/);
    assert.equal(await out(['delete', 'gone']), 'absent\n');
  });

  test('cluster status: one plain row per member (as the table), the view as JSON', async () => {
    const table = (await out(['cluster', 'status', '-o', 'table'])).trimEnd().split('\n');
    const plain = (await out(['cluster', 'status', '-o', 'plain'])).trimEnd().split('\n');
    assert.match(table[0]!, /^PARTITION\s+SLOTS\s+EPOCH/, 'the table alone: no title line, no blank line');
    assert.equal(plain.length, table.length - 1);
    assert.deepEqual(plain[0]!.split('\t'), ['p0', '2050', '3', 'r1', 'r1,r2', 'r1', 'leader', '42', '0', 'http://127.0.0.1:4001']);
    assert.deepEqual(plain.at(-1)!.split('\t'), ['p1', '2046', '1', '-', '-', '-', '(no live replica)', '-', '-', '-']);
    assert.deepEqual(JSON.parse(await out(['cluster', 'status', '-o', 'json'])), SAMPLE_CLUSTER);
  });

  test('migration status: a row per migration, none when there has been none', async () => {
    assert.equal(await out(['migration', 'status', '-o', 'plain']), '');
    assert.match(await out(['migration', 'status', '-o', 'table']), /^ID\s+KIND\s+PARTITION\s+STATE\s+SLOTS-MOVED.*\n$/);
    assert.equal(await out(['migration', 'status', '--json']), 'null\n');
    await out(['cluster', 'add-partition', 'p2']);
    const [id, kind, partition, state] = (await out(['migration', 'status', '-o', 'plain'])).split('\t');
    assert.deepEqual([kind, partition, state], ['add', 'p2', 'running']);
    assert.match(id!, /^m-\d+$/);
  });

  test('a bad or contradictory choice is a usage error, and nothing is sent', async () => {
    const sent = gate.requests.length;
    for (const argv of [['put', 'k', 'v', '-o', 'yaml'], ['put', 'k', 'v', '--json', '--output', 'table'], ['--output']]) {
      const result = await kvctl(argv);
      assert.equal(result.code, 2, argv.join(' '));
      assert.match(result.stderr, /^kvctl: USAGE: [^\n]+\n$/);
    }
    assert.equal(gate.requests.length, sent);
  });

  test('the shell takes --output per line, and kvctl -o for every line', async () => {
    const lines = ['put k v', 'get k -o plain', 'delete k --json'].join('\n');
    const shell = (await kvctl(['-i'], { stdin: lines, env: { KVCTL_HISTORY: '/dev/null' } })).stdout.toString();
    assert.match(shell, /kv> \d+\nkv> k\t\d+\tp0\tfake-r1\tutf8\tv\nkv> \{"key":"k","deleted":true,"version":\d+\}\n/);
    const json = (await kvctl(['-o', 'json', 'shell'], { stdin: 'put k v\nget k -o plain\n', env: { KVCTL_HISTORY: '/dev/null' } })).stdout.toString();
    assert.match(json, /kv> \{"key":"k","version":\d+\}\nkv> k\t/);
  });

  test('--version: the package version, then Node.js', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await runKvctl([flag]);
      assert.equal(result.code, 0);
      assert.equal(result.stdout.toString(), `kvctl ${version}\nnode ${process.version}\n`);
    }
  });
});
