export { ConfigError } from './config-error';
export { parseCommandLine, type Environment, type Setting, type Settings, type Values } from './command-line';
export { choice, connectString, filePath, hostAddress, httpUrl, integer, name, text, type ValueParser } from './values';
export {
  CLUSTER,
  CLUSTER_SECRET_FILE,
  CONFIG_FILE,
  HEADERS_TIMEOUT,
  LOG_LEVEL,
  MAX_HEADER_BYTES,
  MAX_VALUE_BYTES,
  REQUEST_TIMEOUT,
  SESSION_TIMEOUT,
  SLOW_REQUEST_MS,
  TLS_CA,
  TLS_CERT,
  TLS_KEY,
  ZK_AUTH_FILE,
  serverLimitsOf,
  tlsFilesOf,
} from './server-settings';
