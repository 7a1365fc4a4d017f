export { parseServerConfig, ConfigError, type ServerConfig } from './config';
export { createApp, type AppDeps } from './http/app';
export { Replica, type ReplicaStatus, type ReplicaRole } from './replication/replica';
export { MemoryLog, type ReplicationLog } from './replication/log';
export { MemoryStore } from './store/memory-store';
export type { KvStore, StoredValue } from './store/kv-store';
export type { PeerTransport } from './replication/transport';
export { DEFAULT_REPLICATION_OPTIONS, type ReplicationOptions } from './replication/types';
