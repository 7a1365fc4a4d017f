import type { ZkClient } from './session';
import type { ZkDigest } from './zk-acl';

/**
 * A process with credentials on a cluster whose root anyone may still use:
 * the cluster was started open and never closed, so the nodes made before
 * (`/ring`, `/state`) stay open whatever this process creates. Returns the
 * warning to log, or undefined (no credentials, or a closed root).
 */
export async function openRootWarning(session: ZkClient, root: string, digest: ZkDigest | undefined): Promise<string | undefined> {
  if (digest === undefined) return undefined;
  const acl = await session.getAcl(root);
  if (!acl?.some((entry) => entry.startsWith('world:anyone:'))) return undefined;
  return `${root} is open to anyone in ZooKeeper although this process has --zk-auth-file: the records made before are not protected; stop the cluster and run kvstore-zk-acl (docs/security.md, "Closing an open cluster")`;
}
