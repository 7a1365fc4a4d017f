import type { ZkClient } from '@kvstore/cluster';
import type { ClusterPaths } from '@kvstore/protocol';
import type { Member } from '../replication/types';

/** One replica's handle on its partition's nodes, on one session. */
export interface PartitionNodes {
  session: ZkClient;
  self: Member;
  statePath: string;
  leaderPath: string;
  membersPath: string;
}

export function partitionNodes(session: ZkClient, paths: ClusterPaths, partition: string, self: Member): PartitionNodes {
  return { session, self, statePath: paths.state(partition), leaderPath: paths.leader(partition), membersPath: paths.members(partition) };
}
