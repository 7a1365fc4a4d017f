/**
 * Public entry point of @kvstore/kvserver: the replica's configuration and
 * the status it reports (GET /internal/status). The replica itself is the
 * program (bin/kvserver); its internals, for the bench, chaos and tests, are
 * @kvstore/kvserver/internal.
 */
export { parseServerConfig, ConfigError, type ServerConfig } from './config';
export { startServer, StartupError, type RunningServer } from './server';
export type { ReplicaStatus, ReplicaRole } from './replication/replica';
