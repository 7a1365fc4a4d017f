import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { FakeGate } from '@kvstore/kvclient/testing';
import { commandCompleter } from '../src/shell';
import { runKvctl } from './harness';

describe('kvctl shell', () => {
  let gate: FakeGate;
  let historyFile: string;

  before(async () => {
    gate = await FakeGate.start();
    historyFile = join(mkdtempSync(join(tmpdir(), 'kvctl-shell-')), 'history');
  });
  after(() => gate.close());

  const shell = (lines: string[], flag = '-i') =>
    runKvctl(['--host', gate.host, flag], { stdin: lines.join('\n') + '\n', env: { KVCTL_HISTORY: historyFile } });

  test('runs every piped line, reports a failure and goes on, exits 0 at the end', async () => {
    const result = await shell([
      'put greeting "hello world"',
      "get 'greeting'",
      'get missing',
      '',
      'bogus',
      'put "two words" \'it\'\'s\'',
      'get "two words"',
      'cluster status',
    ]);
    assert.equal(result.code, 0);
    const out = result.stdout.toString();
    assert.ok(out.startsWith('kv> '));
    assert.match(out, /kv> hello world\nkv> /);
    assert.match(out, /kv> its\n/);
    assert.match(out, /PARTITION\s+SLOTS\s+EPOCH/);
    assert.equal(out.split('kv> ').length - 1, 9, 'one prompt per line read, plus the last');
    assert.deepEqual(result.stderr.split('\n'), [
      'kvctl: NOT_FOUND: key not found',
      "kvctl: USAGE: unknown command 'bogus'",
      '',
    ]);
    const history = readFileSync(historyFile, 'utf8').split('\n');
    assert.deepEqual(history.slice(0, 3), ['put greeting "hello world"', "get 'greeting'", 'get missing']);
    assert.ok(!history.includes('') || history.indexOf('') === history.length - 1, 'blank lines are not kept');
  });

  test('exit and quit leave the shell; later lines are not run', async () => {
    for (const word of ['exit', 'quit']) {
      const result = await shell([`put left-by-${word} v`, word, `put after-${word} v`], 'shell');
      assert.equal(result.code, 0);
      assert.ok(gate.entries.has(`left-by-${word}`));
      assert.ok(!gate.entries.has(`after-${word}`));
    }
  });

  test('a value is never read from the shell input itself', async () => {
    const result = await shell(['put k', 'put k -']);
    assert.equal(result.code, 0);
    assert.equal(result.stderr.split('\n').filter((line) => line.startsWith('kvctl: USAGE:')).length, 2);
  });

  test('an unclosed quote is a usage error for that line only', async () => {
    const result = await shell(['put k "open', 'put k closed']);
    assert.equal(result.stderr, 'kvctl: USAGE: unclosed " quote\n');
    assert.equal(gate.entries.get('k')?.value.toString(), 'closed');
  });

  test('history keeps the earlier sessions, bounded', async () => {
    writeFileSync(historyFile, Array.from({ length: 1200 }, (_, index) => `get k${index}`).join('\n') + '\n');
    await shell(['get k']);
    const history = readFileSync(historyFile, 'utf8').trimEnd().split('\n');
    assert.equal(history.length, 1001);
    assert.equal(history[0], 'get k200');
    assert.equal(history.at(-1), 'get k');
  });
});

test('tab completion offers command names, then subcommand names', () => {
  const program = new Command();
  program.command('put');
  program.command('get');
  program.command('cluster').command('status');
  program.command('exit').alias('quit');
  const complete = commandCompleter(program);
  assert.deepEqual(complete('g'), [['get'], 'g']);
  assert.deepEqual(complete(''), [['cluster', 'exit', 'get', 'help', 'put', 'quit'], '']);
  assert.deepEqual(complete('cluster st'), [['status'], 'st']);
  assert.deepEqual(complete('get ke'), [[], 'ke']);
});
