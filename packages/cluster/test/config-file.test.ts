import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { CONFIG_FILE, ConfigError, choice, integer, parseCommandLine, text, type Settings } from '../src/index';

const SETTINGS = {
  config: { ...CONFIG_FILE, env: 'T_CONFIG' },
  port: { flags: '--port <n>', env: 'T_PORT', description: 'port', parse: integer(1, 65535), default: '3000' },
  mode: { flags: '--mode <mode>', env: 'T_MODE', description: 'mode', parse: choice(['a', 'b']) },
  secretFile: { flags: '--secret-file <path>', env: 'T_SECRET', description: 'secret', parse: text, required: 'make one' },
  quick: { flags: '--quick', description: 'short runs' },
} as const satisfies Settings;

const parse = (argv: string[], env: Record<string, string> = {}) => parseCommandLine(new Command('t'), SETTINGS, argv, env);

describe('a settings file (--config)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvstore-config-file-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const file = (content: string): string => {
    files += 1;
    const at = path.join(dir, `kv-${files}.yaml`);
    fs.writeFileSync(at, content);
    return at;
  };

  function refusal(argv: string[], env: Record<string, string> = {}): string {
    try {
      parse(argv, env);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.exitCode, 2);
      assert.doesNotMatch(error.message, /\n/, 'one line');
      return error.message;
    }
    assert.fail(`${argv.join(' ')} was accepted`);
  }

  it('gives values under the long flag names: flags win over variables, variables over the file, the file over defaults', () => {
    const kv = file('port: 4001\nmode: b\nsecret-file: /etc/kv/secret\nquick: true\n');
    assert.deepEqual(parse(['--config', kv]), { config: kv, port: 4001, mode: 'b', secretFile: '/etc/kv/secret', quick: true });
    assert.equal(parse(['--config', kv], { T_PORT: '4002' }).port, 4002);
    assert.equal(parse(['--config', kv, '--port', '4003'], { T_PORT: '4002' }).port, 4003);
    assert.equal(parse(['--config', kv, '--mode', 'a']).mode, 'a');
    assert.equal(parse(['--config', file('secret-file: s\n')]).port, 3000);
  });

  it('is named by its flag or its variable', () => {
    const kv = file('port: 4001\nsecret-file: s\n');
    assert.equal(parse([], { T_CONFIG: kv }).port, 4001);
    assert.equal(parse(['--config', kv], { T_CONFIG: file('port: 4009\n') }).port, 4001);
  });

  it('takes strings or numbers for value flags, true or false for switches', () => {
    assert.equal(parse(['--config', file('port: "4001"\nsecret-file: s\n')]).port, 4001);
    assert.equal(parse(['--config', file('quick: false\nsecret-file: s\n')]).quick, false);
  });

  it('satisfies a required setting, where an empty value counts as none', () => {
    assert.equal(parse(['--config', file('secret-file: /s\n')]).secretFile, '/s');
    assert.equal(refusal(['--config', file('secret-file: ""\n')]), '--secret-file is required (or set T_SECRET): make one');
  });

  it('sets nothing when empty', () => {
    assert.equal(parse(['--config', file('# nothing yet\n'), '--secret-file', 's']).port, 3000);
  });

  it('refuses a bad value, naming the file and the key, even where a flag overrides it', () => {
    const kv = file('port: 70000\nsecret-file: s\n');
    assert.equal(refusal(['--config', kv]), `${kv}: port must be an integer from 1 to 65535, got "70000"`);
    assert.equal(refusal(['--config', kv, '--port', '1']), `${kv}: port must be an integer from 1 to 65535, got "70000"`);
    const mode = file('mode: c\n');
    assert.equal(refusal(['--config', mode]), `${mode}: mode must be one of a, b, got "c"`);
  });

  it('refuses wrong types', () => {
    const list = file('port: [1, 2]\n');
    assert.equal(refusal(['--config', list]), `${list}: port must be a string or a number, got a list`);
    const empty = file('mode:\n');
    assert.equal(refusal(['--config', empty]), `${empty}: mode must be a string or a number, got no value`);
    const mapping = file('mode: {a: 1}\n');
    assert.equal(refusal(['--config', mapping]), `${mapping}: mode must be a string or a number, got a mapping`);
    const yes = file('quick: "yes"\n');
    assert.equal(refusal(['--config', yes]), `${yes}: quick must be true or false, got "yes"`);
    const flag = file('port: true\n');
    assert.equal(refusal(['--config', flag]), `${flag}: port must be a string or a number, got true`);
  });

  it('refuses unknown keys, suggesting the flag name a camelCase or snake_case key means', () => {
    const camel = file('secretFile: s\n');
    assert.equal(refusal(['--config', camel]), `${camel}: unknown key "secretFile" (did you mean "secret-file"?); the keys are the long flag names without "--"`);
    const other = file('colour: red\n');
    assert.equal(refusal(['--config', other]), `${other}: unknown key "colour"; the keys are the long flag names without "--"`);
    const itself = file('config: other.yaml\n');
    assert.match(refusal(['--config', itself]), /unknown key "config"/);
  });

  it('refuses a file that is not one YAML mapping, or holds a key twice', () => {
    const list = file('- port: 1\n');
    assert.equal(refusal(['--config', list]), `${list}: must be a mapping of flag names to values (port: 4001), got a list`);
    const scalar = file('port\n');
    assert.equal(refusal(['--config', scalar]), `${scalar}: must be a mapping of flag names to values (port: 4001), got "port"`);
    const broken = file('port: [1\n');
    assert.match(refusal(['--config', broken]), new RegExp(`^${broken}: .*line 2, column 1$`));
    const twice = file('port: 1\nport: 2\n');
    assert.match(refusal(['--config', twice]), new RegExp(`^${twice}: Map keys must be unique at line 2`));
  });

  it('refuses an unreadable file, and an empty --config', () => {
    const absent = path.join(dir, 'absent.yaml');
    assert.equal(refusal(['--config', absent]), `cannot read --config ${absent}: ENOENT`);
    assert.equal(refusal(['--config', dir]), `cannot read --config ${dir}: EISDIR`);
    assert.equal(refusal(['--config', '']), '--config must be a path, got ""');
  });
});
