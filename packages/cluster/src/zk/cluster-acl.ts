import type * as zookeeper from 'node-zookeeper-client';
import { ZkError, type ZkSession } from './session';

/**
 * Gives `root` and every node under it `acls`, parents before children
 * (docs/security.md, "Closing an open cluster"). A node that goes while the
 * walk runs (an ephemeral one) is passed over. Returns how many nodes were set.
 */
export async function setTreeAcl(session: ZkSession, root: string, acls: zookeeper.ACL[]): Promise<number> {
  const children = await session.getChildren(root);
  if (children === undefined) return 0;
  try {
    await session.setAcl(root, acls);
  } catch (error) {
    // Gone between the listing and now: an ephemeral node whose session ended.
    if (error instanceof ZkError && error.code === 'NO_NODE') return 0;
    throw error;
  }
  let set = 1;
  for (const child of children) set += await setTreeAcl(session, `${root === '/' ? '' : root}/${child}`, acls);
  return set;
}
