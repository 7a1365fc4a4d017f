import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseGateConfig } from '../src/index';

/** Parses and expects a one-line ConfigError that names `flag`. */
function assertRefused(argv: string[], flag: string, env: Record<string, string> = {}): void {
  assert.throws(
    () => parseGateConfig(argv, env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
      assert.equal(error.exitCode, 2);
      assert.ok(!error.message.includes('\n'), `more than one line: ${error.message}`);
      assert.ok(error.message.includes(flag), `"${error.message}" does not name ${flag}`);
      return true;
    },
  );
}

const SECRET = ['--cluster-secret-file', '/etc/kv/cluster.secret'];

describe('parseGateConfig', () => {
  it('turns auth on by flag or KV_AUTH, takes a bootstrap token file only with it, and refuses other values', () => {
    const base = ['--zk', '127.0.0.1:2181', ...SECRET];
    assert.equal(parseGateConfig([...base, '--auth', 'on'], {}).auth, true);
    assert.equal(parseGateConfig(base, { KV_AUTH: 'on' }).auth, true);
    const withFile = parseGateConfig([...base, '--auth', 'on', '--auth-bootstrap-token-file', '/tmp/admin.token'], {});
    assert.equal(withFile.authBootstrapTokenFile, '/tmp/admin.token');
    assertRefused([...base, '--auth', 'yes'], '--auth');
    assertRefused([...base, '--auth-bootstrap-token-file', '/tmp/admin.token'], '--auth-bootstrap-token-file');
  });

  it('takes --tls-cert, --tls-key and --tls-ca together, and then advertises https', () => {
    const base = ['--zk', '127.0.0.1:2181', ...SECRET, '--port', '3443'];
    const tls = ['--tls-cert', '/etc/kv/gate.pem', '--tls-key', '/etc/kv/gate.key', '--tls-ca', '/etc/kv/ca.pem'];
    const config = parseGateConfig([...base, ...tls], {});
    assert.deepEqual(config.tls, { certFile: '/etc/kv/gate.pem', keyFile: '/etc/kv/gate.key', caFile: '/etc/kv/ca.pem' });
    assert.equal(config.advertise, 'https://127.0.0.1:3443');
    assertRefused([...base, '--tls-key', '/etc/kv/gate.key'], '--tls-cert, --tls-ca');
  });

  it('fills in the defaults', () => {
    assert.deepEqual(parseGateConfig(['--zk', '127.0.0.1:2181', ...SECRET], {}), {
      zk: '127.0.0.1:2181',
      zkDigest: undefined,
      port: 3000,
      host: '127.0.0.1',
      cluster: 'default',
      clusterSecretFile: '/etc/kv/cluster.secret',
      advertise: 'http://127.0.0.1:3000',
      tls: undefined,
      writeTimeoutMs: 1000,
      sessionTimeoutMs: 5000,
      maxValueBytes: 1048576,
      logLevel: 'info',
      slowRequestMs: 1000,
      auth: false,
      authBootstrapTokenFile: undefined,
      serverLimits: { maxHeaderBytes: 16384, headersTimeoutMs: 10000, requestTimeoutMs: 60000 },
      clientLimits: { ratePerS: 0, burst: 1, maxInFlight: 0 },
      failedLogins: { maxFailures: 10, windowS: 60 },
    });
  });

  it('reads the per-client and listener limits', () => {
    const zk = ['--zk', 'z:1', ...SECRET];
    const config = parseGateConfig([...zk, '--rate-limit', '50', '--max-in-flight-per-client', '8', '--headers-timeout', '2000'], { KV_MAX_HEADER_BYTES: '4096' });
    assert.deepEqual(config.clientLimits, { ratePerS: 50, burst: 50, maxInFlight: 8 }, 'the burst defaults to one second\'s worth');
    assert.deepEqual(config.serverLimits, { maxHeaderBytes: 4096, headersTimeoutMs: 2000, requestTimeoutMs: 60000 });
    assert.equal(parseGateConfig([...zk, '--rate-limit', '50', '--rate-burst', '200'], {}).clientLimits.burst, 200);
    assertRefused([...zk, '--rate-burst', '10'], '--rate-burst');
    assertRefused([...zk, '--rate-limit', '-1'], '--rate-limit');
    assertRefused([...zk, '--headers-timeout', '5000', '--request-timeout', '1000'], '--request-timeout');
    const failedLogins = parseGateConfig([...zk, '--max-failed-logins', '5'], { KV_FAILED_LOGIN_WINDOW: '300' }).failedLogins;
    assert.deepEqual(failedLogins, { maxFailures: 5, windowS: 300 });
    assertRefused([...zk, '--failed-login-window', '0'], '--failed-login-window');
  });

  it('reads --log-level and --slow-request-ms, from flags or the environment', () => {
    const zk = ['--zk', 'z:1', ...SECRET];
    const config = parseGateConfig([...zk, '--log-level', 'debug'], { KV_SLOW_REQUEST_MS: '0' });
    assert.deepEqual([config.logLevel, config.slowRequestMs], ['debug', 0]);
    assert.equal(parseGateConfig([...zk, '--slow-request-ms', '250'], { KV_SLOW_REQUEST_MS: '0' }).slowRequestMs, 250, 'the flag wins');
    assert.equal(parseGateConfig(zk, { KV_LOG_LEVEL: 'warn' }).logLevel, 'warn');
    assertRefused([...zk, '--log-level', 'loud'], '--log-level');
    assertRefused([...zk, '--slow-request-ms', '-1'], '--slow-request-ms');
    assertRefused(zk, '(from KV_SLOW_REQUEST_MS)', { KV_SLOW_REQUEST_MS: 'slow' });
  });

  it('reads the environment, and a flag wins over it', () => {
    const env = {
      KV_ZK: 'zk1:2181,zk2:2181/chroot',
      KV_PORT: '4000',
      KV_CLUSTER: 'blue',
      KV_CLUSTER_SECRET_FILE: '/run/secrets/kv',
      KV_WRITE_TIMEOUT: '250',
      KV_ADVERTISE: 'http://gate.example:80/',
    };
    const config = parseGateConfig(['--port', '5000'], env);
    assert.equal(config.clusterSecretFile, '/run/secrets/kv');
    assert.equal(parseGateConfig(SECRET, env).clusterSecretFile, '/etc/kv/cluster.secret', 'the flag wins');
    assert.equal(config.zk, 'zk1:2181,zk2:2181/chroot');
    assert.equal(config.port, 5000);
    assert.equal(config.cluster, 'blue');
    assert.equal(config.writeTimeoutMs, 250);
    assert.equal(config.advertise, 'http://gate.example:80');
  });

  it('reads --zk-auth-file into the ZooKeeper identity, and refuses a bad one naming the flag', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvgate-config-'));
    try {
      const file = path.join(dir, 'zk.auth');
      fs.writeFileSync(file, 'kvstore:0123456789abcdef-password\n', { mode: 0o600 });
      assert.equal(parseGateConfig(['--zk', 'z:1', ...SECRET, '--zk-auth-file', file], {}).zkDigest?.user, 'kvstore');
      assert.equal(parseGateConfig(['--zk', 'z:1', ...SECRET], { KV_ZK_AUTH_FILE: file }).zkDigest?.user, 'kvstore');
      assertRefused(['--zk', 'z:1', ...SECRET, '--zk-auth-file', path.join(dir, 'missing')], '--zk-auth-file');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('derives the advertised url from host and port', () => {
    assert.equal(parseGateConfig(['--zk', 'z:1', ...SECRET, '--host', '0.0.0.0', '--port', '8080'], {}).advertise, 'http://0.0.0.0:8080');
  });

  it('refuses bad values with a one-line message naming the flag', () => {
    const zk = ['--zk', '127.0.0.1:2181', ...SECRET];
    assertRefused(SECRET, '--zk');
    assertRefused(['--zk', 'localhost', ...SECRET], '--zk');
    assertRefused([...zk, '--port', '70000'], '--port');
    assertRefused([...zk, '--port', '12ab'], '--port');
    assertRefused([...zk], '--port', { KV_PORT: '-1' });
    assertRefused([...zk, '--cluster', 'a/b'], '--cluster');
    assertRefused([...zk, '--write-timeout', '0'], '--write-timeout');
    assertRefused([...zk, '--session-timeout', '1.5'], '--session-timeout');
    assertRefused([...zk, '--max-value-bytes', 'lots'], '--max-value-bytes');
    assertRefused([...zk, '--advertise', 'ftp://x'], '--advertise');
    assertRefused([...zk, '--host', 'a b'], '--host');
    assertRefused([...zk, '--bogus'], '--bogus');
    assertRefused([...zk, '--port'], '--port');
  });

  it('requires --cluster-secret-file, saying how to make one', () => {
    for (const argv of [['--zk', 'z:1'], ['--zk', 'z:1', '--cluster-secret-file', '']]) {
      assertRefused(argv, '--cluster-secret-file is required (or set KV_CLUSTER_SECRET_FILE)');
      assertRefused(argv, 'head -c 32 /dev/urandom | base64 > cluster.secret');
    }
  });

  it('treats an empty environment variable as unset, so the default applies', () => {
    const config = parseGateConfig(['--zk', 'z:1', ...SECRET], { KV_PORT: '', KV_CLUSTER: '', KV_ADVERTISE: '', KV_WRITE_TIMEOUT: '' });
    assert.deepEqual([config.port, config.cluster, config.advertise, config.writeTimeoutMs], [3000, 'default', 'http://127.0.0.1:3000', 1000]);
    assertRefused(SECRET, '--zk is required (or set KV_ZK)', { KV_ZK: '' });
  });

  it('names the environment variable a bad value came from', () => {
    assertRefused(['--zk', 'z:1', ...SECRET], '(from KV_SESSION_TIMEOUT)', { KV_SESSION_TIMEOUT: 'soon' });
  });

  it('returns the help text with exit code 0', () => {
    assert.throws(() => parseGateConfig(['--help'], {}), (error: unknown) => error instanceof ConfigError && error.exitCode === 0 && error.message.includes('--write-timeout') && error.message.includes('--cluster-secret-file'));
  });
});
