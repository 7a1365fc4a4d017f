import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { bashCompletion, zshCompletion } from '../src/completion';
import { buildProgram } from '../src/program';
import { runKvctl } from './harness';

function realProgram(): Command {
  const stream = new PassThrough();
  return buildProgram({ stdout: stream, stderr: stream, stdin: stream, env: {} }, () => assert.fail('completion needs no client'));
}

/** Every command's words from `kvctl`, and every long option anywhere in the tree. */
function walk(command: Command, path: string[] = [command.name()]): { paths: string[]; options: string[] } {
  const below = command.commands.map((sub) => walk(sub, [...path, sub.name()]));
  return {
    paths: [path.join(' '), ...below.flatMap((part) => part.paths)],
    options: [...command.options.flatMap((option) => (option.long ? [option.long] : [])), ...below.flatMap((part) => part.options)],
  };
}

/** What the bash script offers for the words typed so far (the last one being completed). */
function completeInBash(script: string, words: string[]): string[] {
  const run = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kvctl; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', ...words], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').filter((line) => line !== '');
}

describe('completion scripts', () => {
  const program = realProgram();
  const { paths, options } = walk(program);
  const bash = bashCompletion(program);
  const zsh = zshCompletion(program);

  test('name every command, subcommand and option of the program', () => {
    assert.ok(paths.includes('kvctl cluster status') && paths.includes('kvctl health') && paths.includes('kvctl completion'));
    for (const script of [bash, zsh]) {
      for (const path of paths) assert.ok(script.includes(`'${path}')`), `${path} has its case`);
      for (const option of options) assert.match(script, new RegExp(`[' ]${option}[' ]`), option);
    }
  });

  test('bash accepts the bash script', () => {
    const check = spawnSync('bash', ['-n'], { input: bash, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    assert.match(bash, /^complete -o default -F _kvctl kvctl$/m);
  });

  test('bash offers subcommands, options, option choices; option values are skipped', () => {
    assert.deepEqual(completeInBash(bash, ['kvctl', 'c']), ['cluster', 'completion']);
    assert.deepEqual(completeInBash(bash, ['kvctl', 'cluster', 're']), ['remove-partition', 'rebalance', 'remove-member', 'restore-member']);
    assert.deepEqual(completeInBash(bash, ['kvctl', '--host', 'cluster', 'migration', '']), ['status', 'abort', 'help']);
    assert.deepEqual(completeInBash(bash, ['kvctl', 'get', 'k', '--consistency', '']), ['strong', 'eventual']);
    assert.deepEqual(completeInBash(bash, ['kvctl', 'put', '-o', '']), ['json', 'table', 'plain']);
    assert.deepEqual(completeInBash(bash, ['kvctl', 'completion', '']), ['bash', 'zsh']);
    assert.deepEqual(completeInBash(bash, ['kvctl', 'put', 'k', '--if']), ['--if-match', '--if-none-match']);
    assert.deepEqual(completeInBash(bash, ['kvctl', 'backup', '']), [], "a file: left to bash's default");
  });

  test('the zsh script registers itself with compdef, or runs when autoloaded from $fpath', () => {
    assert.match(zsh, /^#compdef kvctl\n/);
    assert.match(zsh, /compdef _kvctl kvctl/);
    assert.match(zsh, /'kvctl get --consistency'[^\n]*compadd -- 'strong' 'eventual'; return ;;/);
    const zshPresent = spawnSync('zsh', ['-c', 'true']).status === 0;
    if (zshPresent) assert.equal(spawnSync('zsh', ['-n'], { input: zsh }).status, 0);
  });

  test('kvctl completion prints them; another shell or --output is a usage error', async () => {
    assert.equal((await runKvctl(['completion', 'bash'])).stdout.toString(), bash);
    assert.equal((await runKvctl(['completion', 'zsh'])).stdout.toString(), zsh);
    for (const argv of [['completion', 'fish'], ['completion'], ['completion', 'bash', '--json']]) {
      const result = await runKvctl(argv);
      assert.equal(result.code, 2, argv.join(' '));
      assert.match(result.stderr, /^kvctl: USAGE: /);
    }
  });
});
