/** The shared kit of the integration tests (STYLE.md, "Tests"). */
import './signals';
import { clusterViewModule, managedProcessModule, portsModule, processesModule, waitModule, zookeeperModule } from './scripts';

export { startCluster, uniqueClusterName, TestCluster, type ClusterOptions, type TestGate, type TestServer } from './cluster';
export { del, get, keyUrl, put, request, type HttpResult, type RequestOptions } from './http';
export { clusterAuthOf, internalGet } from './internal';
export { TcpProxy } from './tcp-proxy';
export { tempDir } from './temp';
export { privateZooKeeper, zookeeperForTests } from './zookeeper';

export const { waitFor } = waitModule;
export const { fetchClusterView, unsettledReason } = clusterViewModule;
export const { freePort, isPortFree, HeldPorts } = portsModule;
export const { ManagedProcess } = managedProcessModule;
export const { kvGateArgs, kvServerArgs, startKvGate, startKvServer, waitForHealthy } = processesModule;
export const { fourLetterWord, isZooKeeperServing } = zookeeperModule;

export type { WaitOptions } from '../../scripts/wait';
export type { ExitStatus, ProcessSpec } from '../../scripts/managed-process';
export type ManagedProcess = import('../../scripts/managed-process').ManagedProcess;
export type { KvGateOptions, KvServerOptions } from '../../scripts/processes';
export type { ZooKeeperHandle } from '../../scripts/zookeeper';
