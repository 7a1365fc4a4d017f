/** Test helpers of @kvstore/cluster/testing: ZooKeeper in memory, for unit tests of code that watches and writes it; a supertest text parser; a sample typed kv frame request. */
export { MemoryZooKeeper, MemoryZkSession } from './memory-zookeeper';
export { textBody } from './text-body';
export { sampleKvFrameRequest } from './kv-frames';
