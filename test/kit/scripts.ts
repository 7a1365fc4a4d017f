import * as path from 'node:path';

/*
 * The kit reuses the scripts' process, port and ZooKeeper code. The two are
 * separate TypeScript projects compiled to different depths (scripts/dist and
 * test/dist/kit), so a relative import would point to the wrong place at run
 * time; the kit therefore loads the compiled scripts by absolute path, typed
 * by their sources (type-only imports, erased from the output).
 */
const scriptsDist = path.resolve(__dirname, '..', '..', '..', 'scripts', 'dist');

function load<T>(module: string): T {
  return require(path.join(scriptsDist, `${module}.js`)) as T;
}

export const clusterViewModule = load<typeof import('../../scripts/cluster-view')>('cluster-view');
export const managedProcessModule = load<typeof import('../../scripts/managed-process')>('managed-process');
export const portsModule = load<typeof import('../../scripts/ports')>('ports');
export const processesModule = load<typeof import('../../scripts/processes')>('processes');
export const waitModule = load<typeof import('../../scripts/wait')>('wait');
export const zookeeperModule = load<typeof import('../../scripts/zookeeper')>('zookeeper');
