import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureClusterSecretFile } from '@kvstore/cluster';
import { tempDir } from '@kvstore/testkit';
import { ensureTlsFiles } from '@kvstore/testkit/harness';
import { programHelp } from './deploy-support';

const root = join(__dirname, '..', '..', '..');
const bin = (name: string): string => join(root, 'packages', name, 'bin', `${name}.js`);

function run(name: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin(name), ...args], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The flags of a program's table in docs/command-lines.md (the first cell of each row may hold several), each with its whole row. */
function documentedFlags(name: string): Map<string, string> {
  const doc = readFileSync(join(root, 'docs', 'command-lines.md'), 'utf8');
  const section = doc.slice(doc.indexOf(`\n## ${name}\n`) + 1).split(/\n## /)[0]!;
  const rows = new Map<string, string>();
  for (const row of section.split('\n').filter((line) => line.startsWith('| `--'))) {
    for (const [, flag] of row.split(' | ')[0]!.matchAll(/`(--[a-z-]+)/g)) rows.set(flag!, row);
  }
  return rows;
}

/** The parsers never read the file; the programs do, after parsing. */
const SECRET = ['--cluster-secret-file', '/nonexistent/cluster.secret'];

/** Each case stops `name` with exit 2 and one line `<name>: ...` that says what it should and shows nothing `hidden` matches. */
function assertRefusals(name: string, cases: [args: string[], says: RegExp][], hidden: RegExp, why: string): void {
  for (const [args, says] of cases) {
    const result = run(name, args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^${name}: `));
    assert.match(result.stderr, says);
    assert.doesNotMatch(result.stderr, hidden, why);
  }
}

for (const name of ['kvserver', 'kvgate'] as const) {
  test(`${name}: a bad flag is one line on stderr naming it, and exit 2`, () => {
    const base = name === 'kvserver' ? ['--zk', '127.0.0.1:1', '--partition', 'p0', '--id', 'r1', ...SECRET] : ['--zk', '127.0.0.1:1', ...SECRET];
    const cases: [args: string[], names: RegExp][] = [
      [[...base, '--port', 'abc'], /--port/],
      [[...base, '--port', '70000'], /--port/],
      [[...base, '--port', '4000', '--no-such-flag'], /--no-such-flag/],
      [[...base, '--port', '4000', '--session-timeout', 'soon'], /--session-timeout/],
      [[...base.map((arg) => (arg === '127.0.0.1:1' ? 'garbage' : arg)), '--port', '4000'], /--zk must be host:port/],
      [[...base, '--port', '4000', '--host', 'not a host'], /--host must be a host name or address/],
    ];
    for (const [args, names] of cases) {
      const result = run(name, args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`^${name}: `));
      assert.match(result.stderr, names, args.join(' '));
    }
  });

  test(`${name}: flags also come from the environment`, () => {
    const result = run(name, name === 'kvserver' ? ['--partition', 'p0', '--id', 'r1', '--zk', 'h:1'] : ['--zk', 'h:1'], {
      KV_PORT: 'not-a-port',
      KV_CLUSTER_SECRET_FILE: '/nonexistent/cluster.secret',
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--port/);
  });

  test(`${name} --help and docs/command-lines.md name the same flags, each with its variable and default`, () => {
    assert.equal(run(name, ['--help']).code, 0, 'the installed command answers --help too');
    const helped = programHelp(name).options;
    assert.ok(helped.size > 20, `${helped.size} flags in --help`);
    const documented = documentedFlags(name);
    assert.deepEqual([...documented.keys()].sort(), [...helped.keys()].sort(), 'the same flags in --help and in the docs');
    for (const [flag, { env, fallback }] of helped) {
      const row = documented.get(flag)!;
      assert.ok(row.includes(`\`${env}\``), `${flag}: the docs name ${env}: ${row}`);
      if (fallback !== undefined) assert.ok(row.includes(`\`${fallback}\``), `${flag}: the docs give the default ${fallback}: ${row}`);
      // A default the docs give as one value (`1000`, or `0`: none) must be the one --help shows.
      const documentedDefault = /^`([^`]+)`(?::|$)/.exec(row.split(' | ')[2] ?? '')?.[1];
      if (documentedDefault !== undefined) assert.equal(fallback, documentedDefault, `${flag}: --help shows the default the docs give: ${row}`);
    }
  });

  test(`${name}: no cluster secret, or an unusable one, is one line saying how to make one and exit 2`, () => {
    const dir = tempDir(`${name}-secret`);
    const short = join(dir, 'short.secret');
    writeFileSync(short, '  fifteen bytes..  \n');
    const base = name === 'kvserver' ? ['--zk', '127.0.0.1:1', '--partition', 'p0', '--id', 'r1', '--port', '1'] : ['--zk', '127.0.0.1:1', '--port', '1'];
    const cases: [args: string[], says: RegExp][] = [
      [base, /--cluster-secret-file is required \(or set KV_CLUSTER_SECRET_FILE\).*head -c 32 \/dev\/urandom \| base64 > cluster\.secret/],
      [[...base, '--cluster-secret-file', short], /holds 15 bytes \(trimmed\); it needs at least 16.*head -c 32/],
      [[...base, '--cluster-secret-file', join(dir, 'absent')], /cannot read --cluster-secret-file .*absent: ENOENT/],
    ];
    assertRefusals(name, cases, /fifteen/, 'the secret is never shown');
  });

  test(`${name}: an unusable --zk-auth-file is one line naming the flag, never the content, and exit 2`, () => {
    const dir = tempDir(`${name}-zk-auth`);
    const open = join(dir, 'open.auth');
    writeFileSync(open, 'kvstore:a-password-of-24-chars!!\n', { mode: 0o644 });
    chmodSync(open, 0o644);
    const short = join(dir, 'short.auth');
    writeFileSync(short, 'kvstore:tooshort\n', { mode: 0o600 });
    const base = name === 'kvserver' ? ['--zk', '127.0.0.1:1', '--partition', 'p0', '--id', 'r1', '--port', '1', ...SECRET] : ['--zk', '127.0.0.1:1', '--port', '1', ...SECRET];
    const cases: [args: string[], says: RegExp][] = [
      [[...base, '--zk-auth-file', join(dir, 'absent')], /--zk-auth-file must be a readable file \(ENOENT\)/],
      [[...base, '--zk-auth-file', open], /--zk-auth-file must not be readable by others/],
      [[...base, '--zk-auth-file', short], /--zk-auth-file must hold one line user:password/],
    ];
    assertRefusals(name, cases, /tooshort|a-password/, 'the credentials are never shown');
  });

  test(`${name}: TLS files that are missing, incomplete or do not match are one line naming the flags, never the key, and exit 2`, () => {
    const dir = tempDir(`${name}-tls`);
    const tls = ensureTlsFiles(dir);
    // A usable secret: the TLS files are read after it.
    const secret = ['--cluster-secret-file', ensureClusterSecretFile(join(dir, 'cluster.secret'))];
    const base = name === 'kvserver' ? ['--zk', '127.0.0.1:1', '--partition', 'p0', '--id', 'r1', '--port', '1', ...secret] : ['--zk', '127.0.0.1:1', '--port', '1', ...secret];
    const cases: [args: string[], says: RegExp][] = [
      [[...base, '--tls-cert', tls.certFile, '--tls-key', tls.keyFile], /TLS needs --tls-cert, --tls-key and --tls-ca together; missing --tls-ca/],
      [[...base, '--tls-cert', join(dir, 'absent.pem'), '--tls-key', tls.keyFile, '--tls-ca', tls.caFile], /--tls-cert .*absent\.pem: ENOENT/],
      [[...base, '--tls-cert', tls.certFile, '--tls-key', tls.caKeyFile, '--tls-ca', tls.caFile], /make no TLS context/],
    ];
    assertRefusals(name, cases, /PRIVATE KEY/, 'the key is never shown');
  });
}

test('kvstore-zk-acl --help names its flags', () => {
  const result = spawnSync(process.execPath, [join(root, 'packages', 'cluster', 'bin', 'kvstore-zk-acl.js'), '--help'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(result.status, 0);
  for (const flag of ['--zk', '--zk-auth-file', '--cluster', '--open']) assert.match(result.stdout, new RegExp(flag));
});

test('kvserver refuses --replica-timeout at or above --write-timeout', () => {
  const result = run('kvserver', ['--zk', 'h:1', '--partition', 'p0', '--id', 'r1', '--port', '4000', ...SECRET, '--write-timeout', '500', '--replica-timeout', '500']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--replica-timeout/);
});
