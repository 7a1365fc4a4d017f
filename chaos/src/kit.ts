import * as path from 'node:path';

/*
 * The shared test kit (test/kit), compiled to test/dist/kit. chaos is a
 * separate TypeScript project compiled to chaos/dist/src, so a relative import
 * would point to the wrong place at run time; like test/kit/scripts.ts does
 * for scripts/, we load the compiled kit by absolute path, typed by its
 * sources (a type-only import, erased from the output).
 */
const kitDist = path.resolve(__dirname, '..', '..', '..', 'test', 'dist', 'kit');

export const kit = require(path.join(kitDist, 'index.js')) as typeof import('../../test/kit');

export type { ManagedProcess, TestCluster, TestGate, TestServer, ZooKeeperHandle, KvServerOptions, KvGateOptions } from '../../test/kit';
export type TcpProxy = import('../../test/kit').TcpProxy;
