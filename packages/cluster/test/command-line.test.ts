import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { ConfigError, choice, integer, parseCommandLine, text, type Settings } from '../src/index';

const SETTINGS = {
  port: { flags: '--port <n>', env: 'T_PORT', description: 'port', parse: integer(1, 65535), default: '3000' },
  mode: { flags: '--mode <mode>', env: 'T_MODE', description: 'mode', parse: choice(['a', 'b']) },
  secret: { flags: '--secret <path>', env: 'T_SECRET', description: 'secret', parse: text, required: 'make one' },
  quick: { flags: '--quick', description: 'short runs' },
} as const satisfies Settings;

const parse = (argv: string[], env: Record<string, string> = {}) => parseCommandLine(new Command('t'), SETTINGS, argv, env);

function refusal(argv: string[], env: Record<string, string> = {}): string {
  try {
    parse(argv, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.exitCode, 2);
    return error.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('parseCommandLine', () => {
  it('parses flags, then variables, then defaults; a switch is a boolean', () => {
    assert.deepEqual(parse(['--secret', 's']), { port: 3000, mode: undefined, secret: 's', quick: false });
    assert.deepEqual(parse(['--quick', '--mode=b'], { T_SECRET: 's', T_PORT: '80' }), { port: 80, mode: 'b', secret: 's', quick: true });
    assert.equal(parse(['--secret', 's', '--port', '81'], { T_PORT: '80' }).port, 81);
  });

  it('treats an empty variable as unset', () => {
    assert.equal(parse(['--secret', 's'], { T_PORT: '' }).port, 3000);
    assert.equal(refusal([], { T_SECRET: '' }), '--secret is required (or set T_SECRET): make one');
  });

  it('names the flag, the text, and the variable when the value came from it', () => {
    assert.equal(refusal(['--secret', 's', '--port', '0']), '--port must be an integer from 1 to 65535, got "0"');
    assert.equal(refusal(['--secret', 's'], { T_PORT: 'x' }), '--port must be an integer from 1 to 65535, got "x" (from T_PORT)');
    assert.equal(refusal(['--secret', 's', '--mode', 'c']), '--mode must be one of a, b, got "c"');
    assert.equal(refusal(['--secret', '']), '--secret is required (or set T_SECRET): make one');
  });

  it("makes commander's own refusals one line", () => {
    assert.equal(refusal(['--prot', '1']), "unknown option '--prot' (Did you mean --port?)");
    assert.equal(refusal(['--secret']), "option '--secret <path>' argument missing");
  });

  it('returns the help text with exit code 0, even after a bad value', () => {
    assert.throws(
      () => parse(['--port', 'x', '--help'], { T_MODE: 'c' }),
      (error: unknown) => error instanceof ConfigError && error.exitCode === 0 && /--quick\s+short runs/.test(error.message),
    );
  });

  it("keeps the help text's additions", () => {
    const command = new Command('t').addHelpText('after', 'Exit code: 2 on bad usage.');
    assert.throws(
      () => parseCommandLine(command, SETTINGS, ['-h']),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith('Usage: t [options]') && error.message.includes('Exit code: 2 on bad usage.'),
    );
  });

  it('leaves process.env as it was', () => {
    const real = process.env;
    refusal([], { T_PORT: 'x' });
    parse(['--secret', 's']);
    assert.equal(process.env, real);
    assert.equal(process.env.T_PORT, undefined);
  });
});
