export * from './errors';
export * from './keys';
export * from './api';
export * from './paths';
export * from './records';
export { Ring } from './ring';
export { ZkSession, ZkError, type ZkClient, type ZkErrorCode, type ZkOp, type CreateMode, type Versioned, type Watcher, type ZkSessionOptions } from './zk/session';
export { WatchedChildren, WatchedNode, watchRecord, type NodeReader, type RecordProblem, type Watch, type WatchLogger, type WatchSource } from './zk/watched-node';
export { ensurePartitionOnRing } from './zk/ring-store';
export * from './requests';
export { readErrorBody } from './error-body';
export { FrameKind, MUX_FRAME_HEADROOM, MUX_PATH, MUX_PROTOCOL, type RequestKind } from './wire/frames';
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
export { MuxPool, type MuxPoolOptions } from './wire/mux-pool';
export { ByteReader } from './wire/byte-reader';
export { TransportError, type TransportFailure } from './wire/transport-error';
export { acceptMux, type MuxHandler, type MuxHandlers, type MuxServer, type MuxServerOptions } from './wire/mux-server';
export { decodeKvAnswer, decodeKvRequest, encodeKvAnswer, encodeKvRequest, type KvMethod, type KvWireRequest } from './wire/kv-codec';
export { KV_PREFIX, errorAnswer, header, isKvUrl, jsonAnswer, kvPath, queryParam, readBody, refusalAnswer, sendAnswer, splitKvUrl, type Answer, type KvUrl } from './http/raw-http';
export * from './config';
