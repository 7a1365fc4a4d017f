/**
 * @kvstore/kvserver/internal: the replica's internals that the storage
 * bench, the chaos forger and the integration tests drive directly. Not an
 * API for users of the package (that is @kvstore/kvserver); it changes with
 * the replica.
 */
export { StorageWriter, type StorageWriterOptions } from './storage-writer';
export { LmdbEngine } from '../store/lmdb-engine';
export { decodeAppend, encodeAppend } from '../wire/append-codec';
export type { AppendRequest } from '../replication/messages';
export type { LogEntry, Operation } from '../replication/entry';
export { DEFAULT_REPLICATION_OPTIONS } from '../replication/types';
export { ReplicaMetrics, type ReplicaMetricsSources } from '../metrics/replica-metrics';
export { MemoryLog } from '../replication/log';
export { MemoryStore } from '../store/memory-store';
