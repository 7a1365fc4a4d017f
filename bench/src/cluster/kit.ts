import * as path from 'node:path';

/*
 * The bench reuses the scripts' process, port and ZooKeeper code, through the
 * test kit's loader of the compiled scripts (test/kit/scripts.ts says why a
 * relative import cannot work across the two projects' output depths); the
 * types come from the sources (type-only imports, erased from the output).
 */
const scripts = require(path.resolve(__dirname, '..', '..', '..', '..', 'test', 'dist', 'kit', 'scripts.js')) as typeof import('../../../test/kit/scripts');

export const { fetchClusterView, waitForSettledCluster } = scripts.clusterViewModule;
export const { ManagedProcess } = scripts.managedProcessModule;
export const { REPO_ROOT, kvGateArgs, kvServerArgs, programMain, waitForHealthy } = scripts.processesModule;
export const { freePort, HeldPorts } = scripts.portsModule;
export const { waitFor } = scripts.waitModule;
export const { startZooKeeper } = scripts.zookeeperModule;

export type ManagedProcess = import('../../../scripts/managed-process').ManagedProcess;
export type { ZooKeeperHandle } from '../../../scripts/zookeeper';
