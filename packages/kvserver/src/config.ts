import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_MAX_VALUE_BYTES, MAKE_SECRET_HINT, isValidName } from '@kvstore/topology';
import type { ReplicationMode } from './replication/types';

export interface ServerConfig {
  zk: string;
  partition: string;
  id: string;
  port: number;
  host: string;
  advertiseUrl: string;
  cluster: string;
  /** The file holding the secret every replica and gate of the cluster shares; main reads it. */
  clusterSecretFile: string;
  dataDir: string | undefined;
  replication: ReplicationMode;
  minInsync: number;
  writeTimeoutMs: number;
  replicaTimeoutMs: number;
  sessionTimeoutMs: number;
  maxKeys: number | undefined;
  maxLogEntries: number;
  maxValueBytes: number;
  fsync: boolean;
  logLevel: string;
}

/** A bad flag or environment variable: main prints the message on one line and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(flag: string, min: number, max: number) {
  return (raw: string): number => {
    if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new ConfigError(`${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
    }
    return Number(raw);
  };
}

function choice<T extends string>(flag: string, values: readonly T[]) {
  return (raw: string): T => {
    if (!values.includes(raw as T)) throw new ConfigError(`${flag} must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };
}

function name(flag: string) {
  return (raw: string): string => {
    if (!isValidName(raw)) throw new ConfigError(`${flag} must be letters, digits, '.', '_' or '-' (at most 64), got "${raw}"`);
    return raw;
  };
}

/** Every flag, its environment variable, and how its text is checked. Defaults as in docs/command-lines.md. */
const FLAGS = [
  { flag: '--zk <hosts>', env: 'KV_ZK', help: 'ZooKeeper connect string', parse: (raw: string) => raw },
  { flag: '--partition <name>', env: 'KV_PARTITION', help: 'partition this replica belongs to', parse: name('--partition') },
  { flag: '--id <id>', env: 'KV_ID', help: 'stable replica id', parse: name('--id') },
  { flag: '--port <n>', env: 'KV_PORT', help: 'port to listen on', parse: integer('--port', 1, 65535) },
  { flag: '--host <addr>', env: 'KV_BIND_HOST', help: 'address to bind', parse: (raw: string) => raw, value: '127.0.0.1' },
  { flag: '--advertise <url>', env: 'KV_ADVERTISE', help: 'url peers and gates use (default http://host:port)', parse: (raw: string) => raw },
  { flag: '--cluster <name>', env: 'KV_CLUSTER', help: 'cluster name', parse: name('--cluster'), value: 'default' },
  { flag: '--cluster-secret-file <path>', env: 'KV_CLUSTER_SECRET_FILE', help: 'file holding the secret shared by every replica and gate (required)', parse: (raw: string) => raw },
  { flag: '--data-dir <dir>', env: 'KV_DATA_DIR', help: 'keep the log, state (LMDB) and identity here; without it, memory only', parse: (raw: string) => raw },
  { flag: '--replication <mode>', env: 'KV_REPLICATION', help: 'sync or async', parse: choice('--replication', ['sync', 'async'] as const), value: 'sync' },
  { flag: '--min-insync <n>', env: 'KV_MIN_INSYNC', help: 'replicas (leader included) a write needs', parse: integer('--min-insync', 1, 99), value: '1' },
  { flag: '--write-timeout <ms>', env: 'KV_WRITE_TIMEOUT', help: 'ack or fail within this', parse: integer('--write-timeout', 10, 600_000), value: '1000' },
  { flag: '--replica-timeout <ms>', env: 'KV_REPLICA_TIMEOUT', help: 'drop a silent follower from the in-sync set after this', parse: integer('--replica-timeout', 10, 600_000), value: '500' },
  { flag: '--session-timeout <ms>', env: 'KV_SESSION_TIMEOUT', help: 'ZooKeeper session timeout', parse: integer('--session-timeout', 1000, 600_000), value: '5000' },
  { flag: '--max-log-entries <n>', env: 'KV_MAX_LOG_ENTRIES', help: 'compact the log beyond this many entries; further-behind followers get a snapshot', parse: integer('--max-log-entries', 10, 1e9), value: '20000' },
  { flag: '--max-keys <n>', env: 'KV_MAX_KEYS', help: 'memory store: evict least recently used beyond this', parse: integer('--max-keys', 1, 1e12) },
  { flag: '--max-value-bytes <n>', env: 'KV_MAX_VALUE_BYTES', help: 'largest value accepted', parse: integer('--max-value-bytes', 1, 512 * 1024 * 1024), value: String(DEFAULT_MAX_VALUE_BYTES) },
  { flag: '--fsync <on|off>', env: 'KV_FSYNC', help: 'fsync before acknowledging (with --data-dir)', parse: choice('--fsync', ['on', 'off'] as const), value: 'on' },
  { flag: '--log-level <level>', env: 'KV_LOG_LEVEL', help: 'pino log level', parse: choice('--log-level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const), value: 'info' },
] as const;

const REQUIRED = ['zk', 'partition', 'id', 'port'] as const;

export function buildServerCommand(): Command {
  const command = new Command('kvserver').description('a kvstore replica').exitOverride().configureOutput({ writeErr: () => {} });
  for (const { flag, env, help } of FLAGS) command.addOption(new Option(flag, `${help} [env ${env}]`));
  return command;
}

/** Parses arguments (after the program name) and environment; throws ConfigError naming the bad flag. */
export function parseServerConfig(argv: readonly string[], env: Env): ServerConfig {
  const command = buildServerCommand();
  try {
    command.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new ConfigError(error.message.replace(/^error: /, ''));
    throw error;
  }
  const given = command.opts<Record<string, string | undefined>>();
  const values: Record<string, unknown> = {};
  for (const { flag, env: envName, parse, ...rest } of FLAGS) {
    const key = command.options.find((option) => option.flags === flag)!.attributeName();
    const raw = given[key] ?? env[envName] ?? ('value' in rest ? rest.value : undefined);
    values[key] = raw === undefined ? undefined : parse(raw);
  }
  for (const key of REQUIRED) {
    if (values[key] === undefined) throw new ConfigError(`--${key} is required (or set ${FLAGS.find((f) => f.flag.startsWith(`--${key} `))!.env})`);
  }
  if (!values.clusterSecretFile) {
    throw new ConfigError(`--cluster-secret-file is required (or set KV_CLUSTER_SECRET_FILE): the secret every replica and gate of the cluster shares; ${MAKE_SECRET_HINT}`);
  }
  const host = values.host as string;
  const port = values.port as number;
  const minInsync = values.minInsync as number;
  const writeTimeoutMs = values.writeTimeout as number;
  const replicaTimeoutMs = values.replicaTimeout as number;
  if (replicaTimeoutMs >= writeTimeoutMs) {
    throw new ConfigError(`--replica-timeout (${replicaTimeoutMs}) must be below --write-timeout (${writeTimeoutMs}), so a silent follower can be dropped in time`);
  }
  const advertiseUrl = (values.advertise as string | undefined) ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  if (!/^https?:\/\/[^/\s]+$/.test(advertiseUrl)) throw new ConfigError(`--advertise must be a url like http://host:port, got "${advertiseUrl}"`);
  return {
    zk: values.zk as string,
    partition: values.partition as string,
    id: values.id as string,
    port,
    host,
    advertiseUrl,
    cluster: values.cluster as string,
    clusterSecretFile: values.clusterSecretFile as string,
    dataDir: values.dataDir as string | undefined,
    replication: values.replication as ReplicationMode,
    minInsync,
    writeTimeoutMs,
    replicaTimeoutMs,
    sessionTimeoutMs: values.sessionTimeout as number,
    maxKeys: values.maxKeys as number | undefined,
    maxLogEntries: values.maxLogEntries as number,
    maxValueBytes: values.maxValueBytes as number,
    fsync: values.fsync === 'on',
    logLevel: values.logLevel as string,
  };
}
