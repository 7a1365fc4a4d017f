import { DEFAULT_MAX_VALUE_BYTES, MAX_VALUE_BYTES_LIMIT } from '@kvstore/protocol';
import type { ServerLimits } from '../http/server-limits';
import { MAKE_SECRET_HINT } from '../wire/cluster-auth';
import { readZkAuthFile } from '../zk/zk-acl';
import type { TlsFiles } from '../tls/cluster-tls';
import type { Setting } from './command-line';
import { ConfigError } from './config-error';
import { choice, filePath, integer, name, text } from './values';

/** The settings kvserver and kvgate share, word for word; each program lists them among its own, in its own order. */

export const CONFIG_FILE = {
  flags: '--config <file>',
  env: 'KV_CONFIG',
  description: 'YAML file of settings keyed by long flag name (port: 4001); flags and variables win over it',
  parse: filePath,
  configFile: true,
} as const satisfies Setting;

export const CLUSTER = {
  flags: '--cluster <name>',
  env: 'KV_CLUSTER',
  description: 'cluster name',
  parse: name,
  default: 'default',
} as const satisfies Setting;

export const CLUSTER_SECRET_FILE = {
  flags: '--cluster-secret-file <path>',
  env: 'KV_CLUSTER_SECRET_FILE',
  description: 'file holding the secret shared by every replica and gate',
  parse: text,
  required: `the secret every replica and gate of the cluster shares; ${MAKE_SECRET_HINT}`,
} as const satisfies Setting;

export const SESSION_TIMEOUT = {
  flags: '--session-timeout <ms>',
  env: 'KV_SESSION_TIMEOUT',
  description: 'ZooKeeper session timeout',
  parse: integer(1000, 600_000),
  default: '5000',
} as const satisfies Setting;

export const MAX_VALUE_BYTES = {
  flags: '--max-value-bytes <n>',
  env: 'KV_MAX_VALUE_BYTES',
  description: 'largest value accepted',
  parse: integer(1, MAX_VALUE_BYTES_LIMIT),
  default: String(DEFAULT_MAX_VALUE_BYTES),
} as const satisfies Setting;

export const LOG_LEVEL = {
  flags: '--log-level <level>',
  env: 'KV_LOG_LEVEL',
  description: 'pino log level',
  parse: choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  default: 'info',
} as const satisfies Setting;

/** The data path logs only requests this slow (docs/logs.md): a line per request would cost more than serving it. */
export const SLOW_REQUEST_MS = {
  flags: '--slow-request-ms <ms>',
  env: 'KV_SLOW_REQUEST_MS',
  description: 'log a /v1/kv request that takes at least this long (0: every one)',
  parse: integer(0, 3_600_000),
  default: '1000',
} as const satisfies Setting;

export const ZK_AUTH_FILE = {
  flags: '--zk-auth-file <file>',
  env: 'KV_ZK_AUTH_FILE',
  description: 'file holding user:password: authenticate to ZooKeeper as that digest identity, and close every node the cluster creates to anyone else',
  parse: readZkAuthFile,
} as const satisfies Setting;

/** Every listener's header and timeout limits (createLimitedServer); node's defaults would let a slow client hold a socket for minutes. */
export const MAX_HEADER_BYTES = {
  flags: '--max-header-bytes <n>',
  env: 'KV_MAX_HEADER_BYTES',
  description: 'largest request line and headers accepted (431 past it)',
  parse: integer(1024, 1024 * 1024),
  default: '16384',
} as const satisfies Setting;

export const HEADERS_TIMEOUT = {
  flags: '--headers-timeout <ms>',
  env: 'KV_HEADERS_TIMEOUT',
  description: 'close a connection whose request headers take longer than this (408)',
  parse: integer(100, 600_000),
  default: '10000',
} as const satisfies Setting;

export const REQUEST_TIMEOUT = {
  flags: '--request-timeout <ms>',
  env: 'KV_REQUEST_TIMEOUT',
  description: 'close a connection whose whole request (headers and body) takes longer than this (408); at least --headers-timeout',
  parse: integer(100, 3_600_000),
  default: '60000',
} as const satisfies Setting;

/** The ServerLimits the three settings above give; a request timeout shorter than the headers' is refused, as node would never apply the latter. */
export function serverLimitsOf(values: { maxHeaderBytes: number; headersTimeout: number; requestTimeout: number }): ServerLimits {
  if (values.requestTimeout < values.headersTimeout) {
    throw new ConfigError(`--request-timeout (${values.requestTimeout}) must be at least --headers-timeout (${values.headersTimeout})`);
  }
  return { maxHeaderBytes: values.maxHeaderBytes, headersTimeoutMs: values.headersTimeout, requestTimeoutMs: values.requestTimeout };
}

export const TLS_CERT = {
  flags: '--tls-cert <file>',
  env: 'KV_TLS_CERT',
  description: 'PEM certificate: serve HTTPS on every route of the port (with --tls-key and --tls-ca); reloaded when the file changes or on SIGHUP',
  parse: filePath,
} as const satisfies Setting;

export const TLS_KEY = {
  flags: '--tls-key <file>',
  env: 'KV_TLS_KEY',
  description: "PEM private key of --tls-cert",
  parse: filePath,
} as const satisfies Setting;

export const TLS_CA = {
  flags: '--tls-ca <file>',
  env: 'KV_TLS_CA',
  description: "PEM certificate of the cluster's CA: replicas and gates verify each other against it",
  parse: filePath,
} as const satisfies Setting;

/** The three TLS flags go together: HTTPS that peers cannot verify would be refused by every one of them. */
export function tlsFilesOf(values: { tlsCert: string | undefined; tlsKey: string | undefined; tlsCa: string | undefined }): TlsFiles | undefined {
  const { tlsCert, tlsKey, tlsCa } = values;
  if (tlsCert === undefined && tlsKey === undefined && tlsCa === undefined) return undefined;
  if (tlsCert === undefined || tlsKey === undefined || tlsCa === undefined) {
    const missing = [tlsCert === undefined ? '--tls-cert' : '', tlsKey === undefined ? '--tls-key' : '', tlsCa === undefined ? '--tls-ca' : ''].filter((flag) => flag !== '');
    throw new ConfigError(`TLS needs --tls-cert, --tls-key and --tls-ca together; missing ${missing.join(', ')}`);
  }
  return { certFile: tlsCert, keyFile: tlsKey, caFile: tlsCa };
}

/** The settings both programs take alike, keyed as their values are: each program's own settings are added to these. */
export const SERVER_SETTINGS = {
  config: CONFIG_FILE,
  zkAuthFile: ZK_AUTH_FILE,
  cluster: CLUSTER,
  clusterSecretFile: CLUSTER_SECRET_FILE,
  tlsCert: TLS_CERT,
  tlsKey: TLS_KEY,
  tlsCa: TLS_CA,
  sessionTimeout: SESSION_TIMEOUT,
  maxValueBytes: MAX_VALUE_BYTES,
  logLevel: LOG_LEVEL,
  slowRequestMs: SLOW_REQUEST_MS,
  maxHeaderBytes: MAX_HEADER_BYTES,
  headersTimeout: HEADERS_TIMEOUT,
  requestTimeout: REQUEST_TIMEOUT,
} as const;
