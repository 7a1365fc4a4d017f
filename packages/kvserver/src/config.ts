import {
  ConfigError,
  choice,
  connectString,
  hostAddress,
  integer,
  name,
  parseCommandLine,
  programCommand,
  serverLimitsOf,
  text,
  tlsFilesOf,
  type Environment,
  type ServerLimits,
  type TlsFiles,
  type Settings,
  type ZkDigest,
  SERVER_SETTINGS,
} from '@kvstore/cluster';
import type { ReplicationMode } from './replication/types';

export { ConfigError };

export interface ServerConfig {
  zk: string;
  /** From --zk-auth-file: the ZooKeeper identity that owns the cluster's nodes; undefined: open nodes. */
  zkDigest: ZkDigest | undefined;
  partition: string;
  id: string;
  port: number;
  host: string;
  advertiseUrl: string;
  /** From --tls-cert, --tls-key, --tls-ca: HTTPS on the port, peers verified against the CA; undefined: plain HTTP. */
  tls: TlsFiles | undefined;
  cluster: string;
  /** The file holding the secret every replica and gate of the cluster shares; main reads it. */
  clusterSecretFile: string;
  dataDir: string | undefined;
  replication: ReplicationMode;
  minInsync: number;
  writeTimeoutMs: number;
  replicaTimeoutMs: number;
  readLeaseMs: number;
  /** Append requests a leader keeps in flight to one caught-up follower. */
  appendsInFlight: number;
  sessionTimeoutMs: number;
  maxKeys: number | undefined;
  maxLogEntries: number;
  maxValueBytes: number;
  fsync: boolean;
  logLevel: string;
  /** Log a `/v1/kv` request that takes at least this long (0: every one). */
  slowRequestMs: number;
  /** auto: a partition not on a sealed ring joins by an online migration at start; manual: it waits for `kvctl cluster add-partition`. */
  join: 'auto' | 'manual';
  /** Keys per second a migration copies (and purges) at most. */
  migrationRate: number;
  /** Header size and slow-client timeouts of the listener (public and internal alike). */
  serverLimits: ServerLimits;
  /** --auth on: the public routes want a gate user's bearer token (users watched in ZooKeeper), as the gate's do. */
  auth: boolean;
}

/** Long enough to renew under light reads, short enough that a failover after a clean stop hardly waits (docs/replication.md, Reads). */
const DEFAULT_READ_LEASE_MS = 500;

/** Every flag, its environment variable, and how its text is checked. docs/command-lines.md lists them. */
const SETTINGS = {
  zk: { flags: '--zk <hosts>', env: 'KV_ZK', description: 'ZooKeeper connect string', parse: connectString, required: true },
  partition: { flags: '--partition <name>', env: 'KV_PARTITION', description: 'partition this replica belongs to', parse: name, required: true },
  id: { flags: '--id <id>', env: 'KV_ID', description: 'stable replica id', parse: name, required: true },
  port: { flags: '--port <n>', env: 'KV_PORT', description: 'port to listen on', parse: integer(1, 65535), required: true },
  host: { flags: '--host <addr>', env: 'KV_BIND_HOST', description: 'address to bind', parse: hostAddress, default: '127.0.0.1' },
  advertise: { flags: '--advertise <url>', env: 'KV_ADVERTISE', description: 'url peers and gates use (default http://host:port, https:// with --tls-cert)', parse: text },
  dataDir: { flags: '--data-dir <dir>', env: 'KV_DATA_DIR', description: 'keep the log, state (LMDB) and identity here; without it, memory only', parse: text },
  replication: { flags: '--replication <mode>', env: 'KV_REPLICATION', description: 'sync or async', parse: choice(['sync', 'async']), default: 'sync' },
  minInsync: { flags: '--min-insync <n>', env: 'KV_MIN_INSYNC', description: 'replicas (leader included) a write needs', parse: integer(1, 99), default: '1' },
  writeTimeout: { flags: '--write-timeout <ms>', env: 'KV_WRITE_TIMEOUT', description: 'ack or fail within this', parse: integer(10, 600_000), default: '1000' },
  replicaTimeout: {
    flags: '--replica-timeout <ms>',
    env: 'KV_REPLICA_TIMEOUT',
    description: 'drop a silent follower from the in-sync set after this',
    parse: integer(10, 600_000),
    default: '500',
  },
  readLease: {
    flags: '--read-lease <ms>',
    env: 'KV_READ_LEASE',
    description: 'sync mode: a leader answers strong reads without a round to its followers for this long after they all acknowledged it, and a follower waits as long before its own term starts (0: a round per read; default 500, or half --write-timeout if less)',
    parse: integer(0, 600_000),
  },
  appendsInFlight: {
    flags: '--appends-in-flight <n>',
    env: 'KV_APPENDS_IN_FLIGHT',
    description: 'append requests a leader sends a caught-up follower without waiting for the answers (more pays on links with a real round trip)',
    parse: integer(1, 64),
    default: '4',
  },
  maxLogEntries: {
    flags: '--max-log-entries <n>',
    env: 'KV_MAX_LOG_ENTRIES',
    description: 'compact the log beyond this many entries; further-behind followers get a snapshot',
    parse: integer(10, 1e9),
    default: '20000',
  },
  maxKeys: { flags: '--max-keys <n>', env: 'KV_MAX_KEYS', description: 'memory store: evict least recently used beyond this', parse: integer(1, 1e12) },
  fsync: { flags: '--fsync <on|off>', env: 'KV_FSYNC', description: 'fsync before acknowledging (with --data-dir)', parse: choice(['on', 'off']), default: 'on' },
  join: {
    flags: '--join <auto|manual>',
    env: 'KV_JOIN',
    description: 'a new partition joins a cluster holding data by an online migration (auto), or waits for `kvctl cluster add-partition` (manual)',
    parse: choice(['auto', 'manual']),
    default: 'auto',
  },
  migrationRate: {
    flags: '--migration-rate <keys/s>',
    env: 'KV_MIGRATION_RATE',
    description: 'keys per second this partition copies to others during a migration at most (it drops what moved at a tenth of this)',
    parse: integer(1, 1e9),
    default: '20000',
  },
  auth: {
    flags: '--auth <on|off>',
    env: 'KV_AUTH',
    description: 'require a bearer token of a cluster user on the public routes (/v1/kv with the key grants, the rest admin), as the gates with --auth on do',
    parse: choice(['on', 'off']),
    default: 'off',
  },
  ...SERVER_SETTINGS,
} as const satisfies Settings;

/** Parses arguments (after the program name) and environment; throws ConfigError naming the bad flag, or with the help text. */
export function parseServerConfig(argv: readonly string[], env: Environment): ServerConfig {
  const values = parseCommandLine(programCommand('kvserver', 'a kvstore replica'), SETTINGS, argv, env);
  const { host, port, writeTimeout: writeTimeoutMs, replicaTimeout: replicaTimeoutMs } = values;
  const readLeaseMs = values.readLease ?? Math.min(DEFAULT_READ_LEASE_MS, Math.floor(writeTimeoutMs / 2));
  if (replicaTimeoutMs >= writeTimeoutMs) {
    throw new ConfigError(`--replica-timeout (${replicaTimeoutMs}) must be below --write-timeout (${writeTimeoutMs}), so a silent follower can be dropped in time`);
  }
  if (readLeaseMs >= writeTimeoutMs) {
    throw new ConfigError(`--read-lease (${readLeaseMs}) must be below --write-timeout (${writeTimeoutMs}): a new leader waits out the lease before it answers`);
  }
  const tls = tlsFilesOf(values);
  const advertiseUrl = values.advertise ?? `${tls === undefined ? 'http' : 'https'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  if (!/^https?:\/\/[^/\s]+$/.test(advertiseUrl)) throw new ConfigError(`--advertise must be a url like http://host:port, got "${advertiseUrl}"`);
  return {
    zk: values.zk,
    zkDigest: values.zkAuthFile,
    partition: values.partition,
    id: values.id,
    port,
    host,
    advertiseUrl,
    tls,
    cluster: values.cluster,
    clusterSecretFile: values.clusterSecretFile,
    dataDir: values.dataDir,
    replication: values.replication,
    minInsync: values.minInsync,
    writeTimeoutMs,
    replicaTimeoutMs,
    readLeaseMs,
    appendsInFlight: values.appendsInFlight,
    sessionTimeoutMs: values.sessionTimeout,
    maxKeys: values.maxKeys,
    maxLogEntries: values.maxLogEntries,
    maxValueBytes: values.maxValueBytes,
    fsync: values.fsync === 'on',
    logLevel: values.logLevel,
    slowRequestMs: values.slowRequestMs,
    join: values.join,
    migrationRate: values.migrationRate,
    auth: values.auth === 'on',
    serverLimits: serverLimitsOf(values),
  };
}
