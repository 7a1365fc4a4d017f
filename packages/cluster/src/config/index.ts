export { ConfigError } from './config-error';
export { parseCommandLine, programCommand, type Environment, type Setting, type Settings, type Values } from './command-line';
export { choice, connectString, filePath, hostAddress, httpUrl, integer, name, text, type ValueParser } from './values';
export {
  CLUSTER,
  CONFIG_FILE,
  MAX_VALUE_BYTES,
  SERVER_SETTINGS,
  ZK_AUTH_FILE,
  serverLimitsOf,
  tlsFilesOf,
} from './server-settings';
