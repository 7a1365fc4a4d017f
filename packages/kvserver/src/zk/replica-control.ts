import type { Replica } from '../replication/replica';

/** What the coordinator tells the replica and reads back from it: the seam a unit test can fill with a fake. */
export type ReplicaControl = Pick<
  Replica,
  'isLeader' | 'epoch' | 'observeZooKeeper' | 'observeState' | 'setMembers' | 'becomeLeader' | 'becomeFollower' | 'stepDown' | 'stop'
>;
