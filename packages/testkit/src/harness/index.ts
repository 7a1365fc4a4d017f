/**
 * @kvstore/testkit/harness: start and stop kvserver, kvgate and ZooKeeper
 * processes, hold free ports, wait for conditions, read a gate's cluster
 * view, scrape and parse a /metrics, send a url-shaped request through a KvClient, put a failing link
 * between processes (TcpProxy), run test files with node's test runner. No
 * side effects on import (no signal handlers, no exit hooks), so `npm
 * start`, the test runner and the bench use it as well as the kit.
 */
export { requestThroughClient, type ClientAnswer, type UrlRequest } from './client-request';
export { fetchClusterView, unsettledReason, waitForSettledCluster, type ExpectedLayout } from './cluster-view';
export { ManagedProcess, type ExitStatus, type ProcessSpec } from './managed-process';
export { parseMetricsText, scrapeMetrics, type MetricSample, type MetricsScrape } from './metrics-text';
export { nodeTestArgs, type NodeTestSettings } from './node-test';
export { HeldPorts, freePort, isPortFree } from './ports';
export {
  REPO_ROOT,
  kvGateArgs,
  kvServerArgs,
  programMain,
  schemeOf,
  startKvGate,
  startKvServer,
  waitForHealthy,
  type KvGateOptions,
  type KvServerOptions,
} from './processes';
export { TcpProxy } from './tcp-proxy';
export { ensureTlsFiles, issueCertificate, peerFingerprint, trustCa, type TlsFileSet } from './tls-files';
export { waitFor, type WaitOptions } from './wait';
export {
  attachZooKeeper,
  fourLetterWord,
  isZooKeeperServing,
  startOrAttachZooKeeper,
  startZooKeeper,
  zooKeeperMode,
  type QuorumServer,
  type StartZooKeeperOptions,
  type ZooKeeperHandle,
} from './zookeeper';
export {
  ensembleLeader,
  ensembleOf,
  startZooKeeperEnsemble,
  type EnsemblePorts,
  type StartZooKeeperEnsembleOptions,
  type ZooKeeperEnsemble,
} from './zookeeper-ensemble';
