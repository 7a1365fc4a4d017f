import { Command } from 'commander';
import { clusterPaths } from '@kvstore/protocol';
import { CLUSTER, ZK_AUTH_FILE, connectString, parseCommandLine, type Settings } from './config';
import { configOrExit, exitWith } from './program';
import { setTreeAcl } from './zk/cluster-acl';
import { ZkSession } from './zk/session';
import { OPEN_ACLS, closedAcls } from './zk/zk-acl';

/**
 * kvstore-zk-acl: closes an existing cluster's ZooKeeper nodes to every
 * identity but the one of --zk-auth-file (or, with --open, opens them again).
 * Run it with every replica and gate of the cluster stopped (docs/security.md).
 */

const SETTINGS = {
  zk: { flags: '--zk <connect>', env: 'KV_ZK', description: 'ZooKeeper connect string', parse: connectString, required: true },
  cluster: CLUSTER,
  zkAuthFile: { ...ZK_AUTH_FILE, required: 'the identity that is to own the cluster, as kvserver and kvgate will be given it' },
  open: { flags: '--open', description: 'undo: give every node of the cluster the open ACL again' },
} as const satisfies Settings;

async function main(): Promise<void> {
  const command = new Command('kvstore-zk-acl')
    .description("sets the ACL of every ZooKeeper node of a cluster: closed to all but --zk-auth-file's identity (or open again with --open)")
    .allowExcessArguments(false);
  const { zk, cluster, zkAuthFile: digest, open } = configOrExit('kvstore-zk-acl', () => parseCommandLine(command, SETTINGS, process.argv.slice(2), process.env));
  const { root } = clusterPaths(cluster);
  const session = await ZkSession.connect(zk, { sessionTimeoutMs: 10_000, digest });
  try {
    const set = await setTreeAcl(session, root, open ? OPEN_ACLS.node : closedAcls(digest).node);
    if (set === 0) exitWith('kvstore-zk-acl', `no cluster at ${root} on ${zk}`, 1);
    process.stdout.write(`${open ? 'opened' : `closed to digest user ${digest.user}`}: ${set} nodes under ${root}\n`);
  } finally {
    session.close();
  }
}

main().catch((error: unknown) => exitWith('kvstore-zk-acl', error instanceof Error ? error.message : String(error), 1));
