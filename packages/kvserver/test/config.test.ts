import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseServerConfig } from '../src/config';
import { replicationOptions } from '../src/server';

const REQUIRED = ['--zk', '127.0.0.1:2181', '--partition', 'p0', '--id', 'r1', '--port', '7001', '--cluster-secret-file', '/etc/kv/cluster.secret'];

/** Asserts that parsing fails with a ConfigError whose message contains `mentions`. */
function assertRefused(argv: string[], mentions: string, env: Record<string, string> = {}): void {
  assert.throws(
    () => parseServerConfig(argv, env),
    (error: unknown) => error instanceof ConfigError && error.message.includes(mentions),
    `expected a ConfigError mentioning ${mentions} for ${argv.join(' ')}`,
  );
}

describe('parseServerConfig', () => {
  it('fills in the defaults of docs/command-lines.md', () => {
    assert.deepEqual(parseServerConfig(REQUIRED, {}), {
      zk: '127.0.0.1:2181',
      zkDigest: undefined,
      partition: 'p0',
      id: 'r1',
      port: 7001,
      host: '127.0.0.1',
      advertiseUrl: 'http://127.0.0.1:7001',
      tls: undefined,
      cluster: 'default',
      clusterSecretFile: '/etc/kv/cluster.secret',
      dataDir: undefined,
      replication: 'sync',
      minInsync: 1,
      writeTimeoutMs: 1000,
      replicaTimeoutMs: 500,
      readLeaseMs: 500,
      appendsInFlight: 4,
      sessionTimeoutMs: 5000,
      maxKeys: undefined,
      maxLogEntries: 20000,
      maxValueBytes: 1048576,
      fsync: true,
      logLevel: 'info',
      slowRequestMs: 1000,
      join: 'auto',
      migrationRate: 20000,
      auth: false,
      serverLimits: { maxHeaderBytes: 16384, headersTimeoutMs: 10000, requestTimeoutMs: 60000 },
    });
  });

  it('reads every setting from its environment variable', () => {
    const config = parseServerConfig([], {
      KV_ZK: 'zk:2181',
      KV_PARTITION: 'p7',
      KV_ID: 'r9',
      KV_PORT: '7009',
      KV_CLUSTER: 'staging',
      KV_CLUSTER_SECRET_FILE: '/run/secrets/kv',
      KV_DATA_DIR: '/var/kv',
      KV_REPLICATION: 'async',
      KV_MIN_INSYNC: '2',
      KV_WRITE_TIMEOUT: '2000',
      KV_REPLICA_TIMEOUT: '700',
      KV_SESSION_TIMEOUT: '8000',
      KV_MAX_KEYS: '100',
      KV_MAX_VALUE_BYTES: '4096',
      KV_FSYNC: 'off',
      KV_LOG_LEVEL: 'warn',
      KV_SLOW_REQUEST_MS: '0',
      KV_ADVERTISE: 'http://kv9.example:80',
    });
    assert.equal(config.zk, 'zk:2181');
    assert.deepEqual(
      [config.partition, config.id, config.port, config.cluster, config.dataDir, config.replication],
      ['p7', 'r9', 7009, 'staging', '/var/kv', 'async'],
    );
    assert.deepEqual(
      [config.minInsync, config.writeTimeoutMs, config.replicaTimeoutMs, config.sessionTimeoutMs, config.maxKeys, config.maxValueBytes],
      [2, 2000, 700, 8000, 100, 4096],
    );
    assert.deepEqual([config.fsync, config.logLevel, config.slowRequestMs, config.advertiseUrl], [false, 'warn', 0, 'http://kv9.example:80']);
    assert.equal(config.clusterSecretFile, '/run/secrets/kv');
  });

  it('prefers a flag over its environment variable', () => {
    const config = parseServerConfig([...REQUIRED, '--min-insync', '3'], { KV_MIN_INSYNC: '2', KV_PORT: '9999' });
    assert.deepEqual([config.minInsync, config.port], [3, 7001]);
  });

  it('takes --tls-cert, --tls-key and --tls-ca together (or their variables), and then advertises https', () => {
    const files = { certFile: '/etc/kv/node.pem', keyFile: '/etc/kv/node.key', caFile: '/etc/kv/ca.pem' };
    const config = parseServerConfig([...REQUIRED, '--tls-cert', files.certFile, '--tls-key', files.keyFile], { KV_TLS_CA: files.caFile });
    assert.deepEqual(config.tls, files);
    assert.equal(config.advertiseUrl, 'https://127.0.0.1:7001');
    assertRefused([...REQUIRED, '--tls-cert', files.certFile, '--tls-ca', files.caFile], '--tls-key');
  });

  it('advertises 127.0.0.1 when bound to every address', () => {
    assert.equal(parseServerConfig([...REQUIRED, '--host', '0.0.0.0'], {}).advertiseUrl, 'http://127.0.0.1:7001');
  });

  const badValues: [flag: string, value: string][] = [
    ['--port', '0'],
    ['--port', '65536'],
    ['--port', 'http'],
    ['--partition', 'has space'],
    ['--id', 'a/b'],
    ['--cluster', ''],
    ['--replication', 'quorum'],
    ['--min-insync', '0'],
    ['--min-insync', '1.5'],
    ['--write-timeout', '-5'],
    ['--replica-timeout', '5'],
    ['--session-timeout', '999'],
    ['--max-keys', '0'],
    ['--max-value-bytes', '1e6'],
    ['--fsync', 'yes'],
    ['--log-level', 'loud'],
    ['--advertise', 'kv1:7001'],
  ];
  for (const [flag, value] of badValues) {
    it(`refuses ${flag} ${JSON.stringify(value)}, naming the flag`, () => assertRefused([...REQUIRED, flag, value], flag));
  }

  it('refuses a bad environment variable, naming the flag', () => {
    assertRefused(REQUIRED, '--max-keys', { KV_MAX_KEYS: 'lots' });
  });

  it('refuses an unknown flag, naming it', () => assertRefused([...REQUIRED, '--turbo'], '--turbo'));

  it('refuses a flag without its value', () => assertRefused([...REQUIRED, '--cluster'], '--cluster'));

  it('refuses a stray argument', () => assertRefused([...REQUIRED, 'extra'], 'argument'));

  it('requires --cluster-secret-file, saying how to make one', () => {
    const withoutSecret = REQUIRED.slice(0, REQUIRED.indexOf('--cluster-secret-file'));
    for (const argv of [withoutSecret, [...withoutSecret, '--cluster-secret-file', '']]) {
      assertRefused(argv, '--cluster-secret-file is required (or set KV_CLUSTER_SECRET_FILE)');
      assertRefused(argv, 'head -c 32 /dev/urandom | base64 > cluster.secret');
    }
    assert.equal(parseServerConfig(withoutSecret, { KV_CLUSTER_SECRET_FILE: 's' }).clusterSecretFile, 's');
    assert.equal(parseServerConfig(REQUIRED, { KV_CLUSTER_SECRET_FILE: 's' }).clusterSecretFile, '/etc/kv/cluster.secret', 'the flag wins');
  });

  for (const flag of ['--zk', '--partition', '--id', '--port']) {
    it(`requires ${flag}`, () => {
      const index = REQUIRED.indexOf(flag);
      assertRefused([...REQUIRED.slice(0, index), ...REQUIRED.slice(index + 2)], `${flag} is required`);
    });
  }

  it('treats an empty environment variable as unset, so the default applies', () => {
    const config = parseServerConfig(REQUIRED, { KV_CLUSTER: '', KV_MIN_INSYNC: '', KV_DATA_DIR: '', KV_ADVERTISE: '', KV_LOG_LEVEL: '' });
    assert.deepEqual([config.cluster, config.minInsync, config.dataDir, config.advertiseUrl, config.logLevel], ['default', 1, undefined, 'http://127.0.0.1:7001', 'info']);
    assertRefused(REQUIRED.slice(2), '--zk is required (or set KV_ZK)', { KV_ZK: '' });
  });

  it('refuses an empty --zk as missing', () => assertRefused([...REQUIRED, '--zk', ''], '--zk is required (or set KV_ZK)'));

  it('names the environment variable a bad value came from, and only then', () => {
    assertRefused(REQUIRED.slice(0, 6), '--port must be an integer from 1 to 65535, got "x" (from KV_PORT)', { KV_PORT: 'x' });
    assertRefused([...REQUIRED, '--port', 'x'], '--port must be an integer from 1 to 65535, got "x"', { KV_PORT: '7001' });
    assert.throws(() => parseServerConfig([...REQUIRED, '--port', 'x'], {}), (error: unknown) => error instanceof ConfigError && !error.message.includes('KV_PORT'));
  });

  it('returns the help text with exit code 0', () => {
    assert.throws(
      () => parseServerConfig(['--help'], {}),
      (error: unknown) => {
        // Each option's line names its variable and its default, as kvgate's do (one format: programCommand).
        const help = error instanceof ConfigError ? error.message.replace(/\s+/g, ' ') : '';
        return (error as ConfigError).exitCode === 0 && help.includes('--max-log-entries <n>') && help.includes('(env KV_CLUSTER_SECRET_FILE)') && help.includes('(env KV_REPLICATION) (default: "sync")');
      },
    );
  });

  it('refuses a replica timeout that is not below the write timeout', () => {
    assertRefused([...REQUIRED, '--write-timeout', '500', '--replica-timeout', '500'], '--replica-timeout');
    assertRefused([...REQUIRED, '--write-timeout', '400'], '--replica-timeout (500) must be below --write-timeout (400)');
    assert.equal(parseServerConfig([...REQUIRED, '--write-timeout', '500', '--replica-timeout', '499'], {}).replicaTimeoutMs, 499);
  });

  it('takes a read lease below the write timeout, half of it by default when 500 ms would not be', () => {
    assertRefused([...REQUIRED, '--read-lease', '1000'], '--read-lease (1000) must be below --write-timeout (1000)');
    assertRefused([...REQUIRED, '--read-lease', '-1'], '--read-lease');
    assert.equal(parseServerConfig([...REQUIRED, '--write-timeout', '300', '--replica-timeout', '200'], {}).readLeaseMs, 150);
    assert.equal(parseServerConfig([...REQUIRED, '--read-lease', '0'], {}).readLeaseMs, 0);
    assert.equal(parseServerConfig(REQUIRED, { KV_READ_LEASE: '800' }).readLeaseMs, 800);
  });

  it('takes the appends in flight per follower, at least one, into the replication options', () => {
    assertRefused([...REQUIRED, '--appends-in-flight', '0'], '--appends-in-flight');
    assertRefused([...REQUIRED, '--appends-in-flight', '65'], '--appends-in-flight');
    assert.equal(replicationOptions(parseServerConfig([...REQUIRED, '--appends-in-flight', '1'], {})).maxAppendsInFlight, 1);
    assert.equal(replicationOptions(parseServerConfig(REQUIRED, { KV_APPENDS_IN_FLIGHT: '16' })).maxAppendsInFlight, 16);
  });
});
