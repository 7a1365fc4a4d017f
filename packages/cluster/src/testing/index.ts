/** Test helpers of @kvstore/cluster/testing: ZooKeeper in memory, for unit tests of code that watches and writes it. */
export { MemoryZooKeeper, MemoryZkSession } from './memory-zookeeper';
