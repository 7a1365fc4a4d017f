/** Test helpers of @kvstore/cluster/testing: ZooKeeper in memory, for unit tests of code that watches and writes it; a supertest text parser */
export { MemoryZooKeeper, MemoryZkSession } from './memory-zookeeper';
export { textBody } from './text-body';
