/**
 * @kvstore/testkit: the shared kit of the integration tests, chaos and the
 * bench (README, "Tests"). Importing it installs signal handlers that exit
 * through the 'exit' hooks (see signals.ts); the side-effect-free process
 * harness alone is @kvstore/testkit/harness.
 */
import './signals';

export { startCluster, uniqueClusterName, TestCluster, type ClusterOptions, type TestGate, type TestServer } from './cluster';
export { readSlotRecords, type SlotRecords } from './cluster-records';
export { del, get, keyUrl, put, request, type HttpResult, type RequestOptions } from './http';
export { clusterAuthOf, internalGet } from './internal';
export { parseMetricsText, scrapeMetrics, type MetricSample, type MetricsScrape } from './harness';
export { runKvctl, type KvctlOptions, type KvctlRun } from './kvctl';
export { rawMuxAnswers, rawMuxUpgrade, type RawUpgrade } from './raw-mux';
export { tempDir } from './temp';
export { privateZooKeeper, privateZooKeeperEnsemble, zookeeperForTests } from './test-zookeeper';
export {
  HeldPorts,
  ManagedProcess,
  ensembleLeader,
  ensembleOf,
  fetchClusterView,
  fourLetterWord,
  freePort,
  isPortFree,
  isZooKeeperServing,
  kvGateArgs,
  kvServerArgs,
  startKvGate,
  startKvServer,
  TcpProxy,
  unsettledReason,
  waitFor,
  waitForHealthy,
  type ExitStatus,
  type KvGateOptions,
  type KvServerOptions,
  type ProcessSpec,
  type WaitOptions,
  type ZooKeeperEnsemble,
  type ZooKeeperHandle,
} from './harness';
