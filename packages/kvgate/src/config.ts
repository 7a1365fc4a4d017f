import {
  choice,
  connectString,
  filePath,
  hostAddress,
  httpUrl,
  integer,
  parseCommandLine,
  programCommand,
  serverLimitsOf,
  tlsFilesOf,
  type Environment,
  type ServerLimits,
  type TlsFiles,
  type Settings,
  ConfigError,
  type ZkDigest,
  SERVER_SETTINGS,
} from '@kvstore/cluster';
import type { ClientLimits } from './limits/client-limiter';
import type { FailedLoginLimits } from './limits/failed-logins';

/** Everything the gate is told at startup; units in the names, defaults in SETTINGS only. */
export interface GateConfig {
  zk: string;
  /** From --zk-auth-file: the ZooKeeper identity that owns the cluster's nodes; undefined: open nodes. */
  zkDigest: ZkDigest | undefined;
  port: number;
  host: string;
  cluster: string;
  /** The file holding the secret every replica and gate of the cluster shares; main reads it. */
  clusterSecretFile: string;
  /** The url other processes (and `/gates/g-<seq>`) know this gate by. */
  advertise: string;
  /** From --tls-cert, --tls-key, --tls-ca: HTTPS on the port, replicas verified against the CA; undefined: plain HTTP. */
  tls: TlsFiles | undefined;
  writeTimeoutMs: number;
  sessionTimeoutMs: number;
  maxValueBytes: number;
  logLevel: string;
  /** Log a `/v1/kv` request that takes at least this long (0: every one). */
  slowRequestMs: number;
  /** Bearer tokens and roles on every route but the probes (docs/security.md). */
  auth: boolean;
  /** With auth: make the user `admin` if there is none, and write its token here (mode 0600). */
  authBootstrapTokenFile: string | undefined;
  /** Header size and slow-client timeouts of the listener. */
  serverLimits: ServerLimits;
  /** Per client (its user with auth, else its address): requests a second (0: no limit), the bucket's size, and requests at once (0: no limit). */
  clientLimits: ClientLimits;
  /** With auth: bad tokens an address may try per window before it is refused 429 (0: no limit). */
  failedLogins: FailedLoginLimits;
}

const SETTINGS = {
  zk: { flags: '--zk <connect>', env: 'KV_ZK', description: 'ZooKeeper connect string', parse: connectString, required: true },
  port: { flags: '--port <n>', env: 'KV_PORT', description: 'port to listen on', parse: integer(1, 65535), default: '3000' },
  host: { flags: '--host <host>', env: 'KV_BIND_HOST', description: 'address to listen on', parse: hostAddress, default: '127.0.0.1' },
  advertise: { flags: '--advertise <url>', env: 'KV_ADVERTISE', description: 'url this gate is reached at (default http://host:port, https:// with --tls-cert)', parse: httpUrl },
  writeTimeout: { flags: '--write-timeout <ms>', env: 'KV_WRITE_TIMEOUT', description: 'deadline for routing one request', parse: integer(10, 600_000), default: '1000' },
  auth: { flags: '--auth <on|off>', env: 'KV_AUTH', description: 'require a bearer token (users and roles in ZooKeeper) on every route but /healthz and /readyz', parse: choice(['on', 'off']), default: 'off' },
  authBootstrapTokenFile: {
    flags: '--auth-bootstrap-token-file <path>',
    env: 'KV_AUTH_BOOTSTRAP_TOKEN_FILE',
    description: 'with --auth on: create the user admin if absent and write its token to this file (mode 0600)',
    parse: filePath,
  },
  rateLimit: {
    flags: '--rate-limit <n>',
    env: 'KV_RATE_LIMIT',
    description: 'requests a second each client may make (its user with --auth on, else its address); past it 429 with Retry-After (0: no limit)',
    parse: integer(0, 10_000_000),
    default: '0',
  },
  rateBurst: {
    flags: '--rate-burst <n>',
    env: 'KV_RATE_BURST',
    description: 'with --rate-limit: requests a client may make at once after being idle (0: one second\'s worth)',
    parse: integer(0, 10_000_000),
    default: '0',
  },
  maxFailedLogins: {
    flags: '--max-failed-logins <n>',
    env: 'KV_MAX_FAILED_LOGINS',
    description: 'with --auth on: failed logins (bad tokens) an address may make per --failed-login-window; past it 429 with Retry-After, before any token is checked (0: no limit)',
    parse: integer(0, 1_000_000),
    default: '10',
  },
  failedLoginWindow: {
    flags: '--failed-login-window <s>',
    env: 'KV_FAILED_LOGIN_WINDOW',
    description: 'with --max-failed-logins: the window, in seconds, over which an address earns its failed logins back',
    parse: integer(1, 86_400),
    default: '60',
  },
  maxInFlightPerClient: {
    flags: '--max-in-flight-per-client <n>',
    env: 'KV_MAX_IN_FLIGHT_PER_CLIENT',
    description: 'requests each client may have unanswered at once; past it 429 with Retry-After (0: no limit)',
    parse: integer(0, 10_000_000),
    default: '0',
  },
  ...SERVER_SETTINGS,
} as const satisfies Settings;

/**
 * Reads flags (argv = the arguments after the program name), falling back to
 * the environment we are handed (not process.env, so tests stay hermetic),
 * then to the defaults. Throws ConfigError with a one-line message naming the
 * flag, or with the help text and exit code 0.
 */
export function parseGateConfig(argv: readonly string[], env: Environment): GateConfig {
  const values = parseCommandLine(programCommand('kvgate', 'kvstore gateway: routes the public API to partition leaders'), SETTINGS, argv, env);
  const { host, port } = values;
  const tls = tlsFilesOf(values);
  if (values.authBootstrapTokenFile !== undefined && values.auth !== 'on') throw new ConfigError('--auth-bootstrap-token-file needs --auth on');
  if (values.rateBurst > 0 && values.rateLimit === 0) throw new ConfigError('--rate-burst needs --rate-limit');
  return {
    zk: values.zk,
    zkDigest: values.zkAuthFile,
    port,
    host,
    cluster: values.cluster,
    clusterSecretFile: values.clusterSecretFile,
    tls,
    advertise: values.advertise ?? `${tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    writeTimeoutMs: values.writeTimeout,
    sessionTimeoutMs: values.sessionTimeout,
    maxValueBytes: values.maxValueBytes,
    logLevel: values.logLevel,
    slowRequestMs: values.slowRequestMs,
    auth: values.auth === 'on',
    authBootstrapTokenFile: values.authBootstrapTokenFile,
    serverLimits: serverLimitsOf(values),
    clientLimits: {
      ratePerS: values.rateLimit,
      burst: values.rateBurst > 0 ? values.rateBurst : Math.max(1, values.rateLimit),
      maxInFlight: values.maxInFlightPerClient,
    },
    failedLogins: { maxFailures: values.maxFailedLogins, windowS: values.failedLoginWindow },
  };
}
