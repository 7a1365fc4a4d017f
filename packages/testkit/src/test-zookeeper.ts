import * as path from 'node:path';
import { attachZooKeeper, freePort, startZooKeeper, startZooKeeperEnsemble, type ZooKeeperEnsemble, type ZooKeeperHandle } from './harness';
import { tempDir } from './temp';

let shared: Promise<ZooKeeperHandle> | undefined;

/**
 * The ZooKeeper this test process shares between its tests: the one `npm test`
 * started (KV_TEST_ZK), or else one of its own, so that a single test file
 * also runs alone under `node --test`. Tests keep apart by cluster name.
 */
export function zookeeperForTests(): Promise<ZooKeeperHandle> {
  shared ??= process.env.KV_TEST_ZK
    ? Promise.resolve(attachZooKeeper(process.env.KV_TEST_ZK))
    : privateZooKeeper();
  return shared;
}

/**
 * A ZooKeeper of its own, for tests that kill or restart it. The caller
 * stops it (t.after(() => zookeeper.stop())); it is killed at exit anyway.
 */
export async function privateZooKeeper(): Promise<ZooKeeperHandle> {
  const port = await freePort();
  return startZooKeeper({ port, dataDir: path.join(tempDir('zookeeper'), 'zookeeper') });
}

/** A private ensemble of `size` members on loopback, for tests that kill members; stopped by the caller, killed at exit anyway. */
export function privateZooKeeperEnsemble(size = 3): Promise<ZooKeeperEnsemble> {
  return startZooKeeperEnsemble({ size, dataDir: path.join(tempDir('zookeeper-ensemble'), 'zookeeper') });
}
