/** @kvstore/cluster: what the processes of a cluster share: the ZooKeeper session and watches, the internal protocol's server side and proofs, the plain-HTTP data path, the command-line parser. */
export { ZkSession, ZkError, type ZkClient, type ZkErrorCode, type ZkOp, type CreateMode, type Versioned, type Watcher, type ZkSessionOptions } from './zk/session';
export { MAKE_ZK_AUTH_HINT, OPEN_ACLS, ZkDigest, aclsFor, closedAcls, ensureZkAuthFile, isSharedParent, parseZkAuth, readZkAuthFile, type ZkAcls } from './zk/zk-acl';
export { setTreeAcl } from './zk/cluster-acl';
export { openRootWarning } from './zk/open-root';
export { abortMigration, beginMigration, forceRemovePartition, removalMarks } from './zk/migrations';
export { WatchedChildren, WatchedNode, watchRecord, type NodeReader, type RecordProblem, type Watch, type WatchLogger, type WatchSource } from './zk/watched-node';
export {
  CLUSTER_PROOF_HEADER,
  ClusterAuth,
  ClusterSecretError,
  MAKE_SECRET_HINT,
  PROOF_WINDOW_MS,
  ensureClusterSecretFile,
  proofSubject,
  readClusterSecret,
  type ProofRefusal,
} from './wire/cluster-auth';
export { clusterAuthOrExit, exitWith, configOrExit, shutdownOnSignals, tlsOrExit, type ShutdownLogger } from './program';
export { peerMuxDoor, type PeerDoorOptions } from './wire/peer-door';
export { decodeKvAnswer, decodeKvRequest, encodeKvAnswer, encodeKvRequest, type KvWireRequest } from './wire/kv-codec';
export { errorAnswer, header, jsonAnswer, readBody, refusalAnswer, sendAnswer, type Answer } from './http/raw-http';
export { requestIdFor } from './http/request-id';
export { createLimitedServer, type ServerLimits } from './http/server-limits';
export { SlowRequestLog, type RequestSummary, type SlowRequestLogger } from './http/slow-request-log';
export { DEFAULT_WARN_BUDGET, warnBudgetHook, type WarnBudget } from './log/warn-budget';
export {
  CLUSTER,
  CONFIG_FILE,
  ConfigError,
  MAX_VALUE_BYTES,
  SERVER_SETTINGS,
  ZK_AUTH_FILE,
  serverLimitsOf,
  choice,
  connectString,
  filePath,
  hostAddress,
  httpUrl,
  integer,
  name,
  parseCommandLine,
  programCommand,
  text,
  tlsFilesOf,
  type Environment,
  type Setting,
  type Settings,
  type ValueParser,
  type Values,
} from './config';
export {
  Counter,
  CounterCell,
  FastCounter,
  FastHistogram,
  Gauge,
  Histogram,
  HistogramCell,
  Registry,
  ZK_SESSION_STATES,
  ZkSessionMetrics,
  createMetricsRegistry,
  metricNames,
  serveMetrics,
  type ZkSessionState,
} from './metrics';
export { ClusterTls, TlsFilesError, peerCertificateRefusal, readTlsMaterial, type SecureContextTarget, type TlsFiles, type TlsLogger, type TlsMaterial } from './tls/cluster-tls';
export {
  Authenticator,
  UserDirectory,
  allows,
  bearerToken,
  challengeHeaders,
  isAdmin,
  issueToken,
  parseToken,
  requireAccess,
  tokenDigest,
  verifySecret,
  type Access,
  type FailedLoginLogger,
  type ParsedToken,
  type Principal,
  type TokenOwner,
  type UserSource,
} from './auth';
