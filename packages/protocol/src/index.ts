/** @kvstore/protocol: what every party to the public API and the cluster's records agrees on; plain data, no I/O. */
export {
  ERROR_CODES,
  KvError,
  badRequest,
  conflict,
  errorFromAnswer,
  errorFromBody,
  forbidden,
  notFound,
  notLeader,
  payloadTooLarge,
  preconditionFailed,
  timeout,
  unauthenticated,
  unavailable,
  type ErrorBody,
  type ErrorCode,
} from './errors';
export { readErrorBody } from './error-body';
export {
  HEADER_PARTITION,
  HEADER_REPLICA,
  HEADER_REQUEST_ID,
  HEADER_ROUTING_VERSION,
  type ClusterView,
  type ForceRemoveResult,
  type LeaderTransferResult,
  type MemberChangeResult,
  type IssuedToken,
  type UserView,
  type MigrationView,
  type Consistency,
  type DeleteResult,
  type MemberView,
  type PartitionView,
  type PartitionRoute,
  type PutResult,
  type ReplicaEndpoint,
  type Role,
  type RoutingView,
} from './api';
export { DEFAULT_MAX_VALUE_BYTES, MAX_KEY_BYTES, encodeKey, validateKey } from './keys';
export { KV_PREFIX, isKvUrl, kvPath, queryParam, splitKvUrl, type KvUrl } from './kv-url';
export { decodeKey, parseConsistency, parseIfMatch, parseIfNoneMatch, parseSeedGetKey, parseSeedPut, parseTtl, seedBodyLimit } from './requests';
export { KVSTORE_ROOT, clusterPaths, isValidName, type ClusterPaths } from './paths';
export {
  RecordError,
  encodeRecord,
  parseLeader,
  isMigrationActive,
  parseMigration,
  parseProgress,
  parseMember,
  parseRing,
  parseState,
  restoreMember,
  parseUser,
  type GateRecord,
  type LeaderRecord,
  type MigrationKind,
  type MigrationRecord,
  type MigrationState,
  type ProgressRecord,
  type MemberRecord,
  type RingRecord,
  type StateRecord,
  type UserGrant,
  type UserRecord,
  type UserRole,
  type UserToken,
  USER_ROLES,
} from './records';
export { Ring, ringRecord } from './ring';
export { forceRemove, migrationView, planMigration, type ForcedRemoval, type MigrationPlan, type MigrationRequest } from './migration-plan';
export { SLOT_COUNT, placeSlots, slotOf } from './slots';
