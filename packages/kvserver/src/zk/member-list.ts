import { type ZkClient } from '@kvstore/cluster';
import { RecordError, parseMember, type MemberRecord } from '@kvstore/protocol';
import type { Member } from '../replication/types';

/**
 * The live members from their nodes (`m-<seq>` → record), one per id: a
 * replica's newest registration wins over one whose session has not ended
 * yet. The node name is the member's incarnation.
 */
export function membersFrom(nodes: Iterable<readonly [string, MemberRecord | undefined]>): Member[] {
  const byId = new Map<string, Member>();
  const sorted = [...nodes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [incarnation, record] of sorted) if (record) byId.set(record.id, { ...record, incarnation });
  return [...byId.values()];
}

/** The members as ZooKeeper has them now, read without a watch; a malformed or vanished node counts as no member. */
export async function readLiveMembers(session: ZkClient, membersPath: string): Promise<Member[]> {
  const children = (await session.getChildren(membersPath)) ?? [];
  const records = await Promise.all(
    children.map(async (child) => {
      const node = await session.getData(`${membersPath}/${child}`);
      try {
        return [child, node && parseMember(node.data)] as const;
      } catch (error) {
        if (error instanceof RecordError) return [child, undefined] as const;
        throw error;
      }
    }),
  );
  return membersFrom(records);
}
