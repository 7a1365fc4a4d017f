/** Public API of @kvstore/kvclient. */
export {
  KvClient,
  type KvClientOptions,
  type PutOptions,
  type TokenOptions,
  type GetOptions,
  type DeleteOptions,
  type GetResult,
  type HealthStatus,
} from './client';
export { type GateTls } from './agents';
export { DirectRoutes, type DirectTarget, type KeyUse } from './direct/direct-routes';
export { ndjsonLines, type PartitionSnapshot, type SnapshotRecord } from './snapshot';
export { RetryLater, withRetries, type RetryPolicy } from './retry';
export { parseHosts, hostsFromEnv, DEFAULT_HOST } from './hosts';
export {
  KvError,
  type ErrorCode,
  type PutResult,
  type DeleteResult,
  type ClusterView,
  type RoutingView,
  type PartitionRoute,
  type ReplicaEndpoint,
  type ForceRemoveResult,
  type LeaderTransferResult,
  type MemberChangeResult,
  type IssuedToken,
  type UserGrant,
  type UserRole,
  type UserView,
  USER_ROLES,
  type MigrationView,
  type PartitionView,
  type MemberView,
  type Consistency,
} from '@kvstore/protocol';
