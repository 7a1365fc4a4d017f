export * from './errors';
export * from './keys';
export * from './api';
export * from './paths';
export * from './records';
export { Ring } from './ring';
export { ZkSession, ZkError, type ZkErrorCode, type CreateMode, type Versioned, type Watcher, type ZkSessionOptions } from './zk/session';
export { readRing, ensurePartitionOnRing } from './zk/ring-store';
export * from './requests';
