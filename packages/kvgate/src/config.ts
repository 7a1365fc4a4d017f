import { Command, CommanderError } from 'commander';
import { DEFAULT_MAX_VALUE_BYTES, MAKE_SECRET_HINT, isValidName } from '@kvstore/topology';
import { ConfigError } from './errors';

/** Everything the gate is told at startup; units in the names, defaults in FLAGS only. */
export interface GateConfig {
  zk: string;
  port: number;
  host: string;
  cluster: string;
  /** The file holding the secret every replica and gate of the cluster shares; main reads it. */
  clusterSecretFile: string;
  /** The url other processes (and `/gates/g-<seq>`) know this gate by. */
  advertise: string;
  writeTimeoutMs: number;
  sessionTimeoutMs: number;
  maxValueBytes: number;
}

interface Flag {
  flags: string;
  key: string;
  env: string;
  description: string;
  fallback?: string;
}

const FLAGS: readonly Flag[] = [
  { flags: '--zk <connect>', key: 'zk', env: 'KV_ZK', description: 'ZooKeeper connect string (required)' },
  { flags: '--port <n>', key: 'port', env: 'KV_PORT', description: 'port to listen on', fallback: '3000' },
  { flags: '--host <host>', key: 'host', env: 'KV_BIND_HOST', description: 'address to listen on', fallback: '127.0.0.1' },
  { flags: '--cluster <name>', key: 'cluster', env: 'KV_CLUSTER', description: 'cluster name', fallback: 'default' },
  { flags: '--cluster-secret-file <path>', key: 'clusterSecretFile', env: 'KV_CLUSTER_SECRET_FILE', description: 'file holding the secret shared by every replica and gate (required)' },
  { flags: '--advertise <url>', key: 'advertise', env: 'KV_ADVERTISE', description: 'url this gate is reached at (default http://host:port)' },
  { flags: '--write-timeout <ms>', key: 'writeTimeout', env: 'KV_WRITE_TIMEOUT', description: 'deadline for routing one request', fallback: '1000' },
  { flags: '--session-timeout <ms>', key: 'sessionTimeout', env: 'KV_SESSION_TIMEOUT', description: 'ZooKeeper session timeout', fallback: '5000' },
  { flags: '--max-value-bytes <n>', key: 'maxValueBytes', env: 'KV_MAX_VALUE_BYTES', description: 'largest value accepted', fallback: String(DEFAULT_MAX_VALUE_BYTES) },
];

function integer(flag: string, value: string, min: number, max: number): number {
  const number = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new ConfigError(`--${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

function httpUrl(flag: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(`--${flag} must be an http(s) url, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

/** Comma-separated host:port pairs, optionally followed by a chroot path. */
function connectString(value: string): string {
  const hosts = value.split('/')[0] ?? '';
  const valid = hosts.split(',').every((hostPort) => /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(hostPort.trim()));
  if (!valid) throw new ConfigError(`--zk must be host:port[,host:port...], got "${value}"`);
  return value;
}

function createCommand(): Command {
  const command = new Command('kvgate')
    .description('kvstore gateway: routes the public API to partition leaders')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .allowExcessArguments(false);
  for (const flag of FLAGS) command.option(flag.flags, `${flag.description} (env ${flag.env})`, flag.fallback);
  return command;
}

/**
 * Reads flags (argv = the arguments after the program name), falling back to
 * the environment we are handed (not process.env, so tests stay hermetic),
 * then to the defaults. Throws ConfigError with a one-line message naming the flag.
 */
export function parseGateConfig(argv: string[], env: Record<string, string | undefined>): GateConfig {
  const command = createCommand();
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed') throw new ConfigError(command.helpInformation(), 0);
    throw new ConfigError(error.message.replace(/^error: /, '').split('\n')[0] ?? error.message);
  }
  const options = command.opts<Record<string, string | undefined>>();
  const value = (key: string): string | undefined => {
    const flag = FLAGS.find((candidate) => candidate.key === key);
    if (!flag) throw new Error(`unknown flag key ${key}`);
    const fromEnv = env[flag.env];
    if (command.getOptionValueSource(key) !== 'cli' && fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return options[key];
  };

  const zk = value('zk');
  if (zk === undefined) throw new ConfigError('--zk is required (or set KV_ZK)');
  const host = value('host') ?? '';
  if (!/^[A-Za-z0-9.\-:[\]]+$/.test(host)) throw new ConfigError(`--host must be a host name or address, got "${host}"`);
  const cluster = value('cluster') ?? '';
  if (!isValidName(cluster)) throw new ConfigError(`--cluster must be 1-64 of [A-Za-z0-9_.-], got "${cluster}"`);
  const clusterSecretFile = value('clusterSecretFile');
  if (!clusterSecretFile) {
    throw new ConfigError(`--cluster-secret-file is required (or set KV_CLUSTER_SECRET_FILE): the secret every replica and gate of the cluster shares; ${MAKE_SECRET_HINT}`);
  }
  const port = integer('port', value('port') ?? '', 1, 65535);
  const advertise = value('advertise');
  return {
    zk: connectString(zk),
    port,
    host,
    cluster,
    clusterSecretFile,
    advertise: advertise === undefined ? `http://${host.includes(':') ? `[${host}]` : host}:${port}` : httpUrl('advertise', advertise),
    writeTimeoutMs: integer('write-timeout', value('writeTimeout') ?? '', 10, 600_000),
    sessionTimeoutMs: integer('session-timeout', value('sessionTimeout') ?? '', 1000, 600_000),
    maxValueBytes: integer('max-value-bytes', value('maxValueBytes') ?? '', 1, 512 * 1024 * 1024),
  };
}
