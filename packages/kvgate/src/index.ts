/** Public entry point of @kvstore/kvgate: what scripts, tests and other packages may import. */
export { parseGateConfig, type GateConfig } from './config';
export { ConfigError } from '@kvstore/cluster';
export { startGate, type RunningGate } from './gate';
export { createApp, type AppDeps } from './http/app';
export { Forwarder, type ForwardRequest, type ForwardResult, type ForwarderOptions, type RetryReason } from './proxy/forwarder';
export { GateMetrics, REQUEST_DURATION, routeOf, type GateMetricsSources, type GateRoute } from './metrics/gate-metrics';
export { TransportError, type DataTransport, type TransportRequest, type TransportResponse, type TransportFailure } from './proxy/transport';
export { MuxTransport } from './proxy/mux-transport';
export { MemoryTransport, type MemoryHandler } from './proxy/memory-transport';
export { RoutingTable, type Route, type Endpoint } from './routing/routing-table';
export { RoutingState, type RouteSource } from './routing/routing-state';
export type { ClusterSnapshot, MigrationRecords, PartitionRecords } from './routing/snapshot';
export { ClusterWatcher, type ClusterWatcherOptions } from './zk/cluster-watcher';
export { buildClusterView, type StatusFetcher, type ReplicaStatus } from './cluster/cluster-view';
export { migrationAdmin, type MigrationAdmin, type MigrationAdminDeps } from './cluster/migration-admin';
export { RingSummaries, summarize, type RingSummary } from './cluster/ring-summary';
