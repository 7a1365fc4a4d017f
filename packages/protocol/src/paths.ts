/** ZooKeeper layout (docs/zookeeper.md): every path the cluster uses, in one place. */

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Cluster, partition and replica names are path segments, so they are restricted. */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}

/** The parent of every cluster's root, shared by the clusters of one ensemble. */
export const KVSTORE_ROOT = '/kvstore';

export interface ClusterPaths {
  root: string;
  ring: string;
  partitions: string;
  gates: string;
  gatePrefix: string;
  migration: string;
  progress: string;
  progressOf(partition: string): string;
  partition(name: string): string;
  members(partition: string): string;
  memberPrefix(partition: string): string;
  state(partition: string): string;
  /** Present once the partition has been taken off the ring: its replicas do not join it back by themselves. */
  removed(partition: string): string;
  leader(partition: string): string;
  /** The users of the gates' `--auth on` (docs/security.md): one node per user. */
  users: string;
  user(name: string): string;
}

export function clusterPaths(cluster: string): ClusterPaths {
  const root = `${KVSTORE_ROOT}/${cluster}`;
  const partition = (name: string): string => `${root}/partitions/${name}`;
  return {
    root,
    ring: `${root}/ring`,
    partitions: `${root}/partitions`,
    gates: `${root}/gates`,
    gatePrefix: `${root}/gates/g-`,
    migration: `${root}/migration`,
    progress: `${root}/migration-progress`,
    progressOf: (p) => `${root}/migration-progress/${p}`,
    partition,
    members: (p) => `${partition(p)}/members`,
    memberPrefix: (p) => `${partition(p)}/members/m-`,
    state: (p) => `${partition(p)}/state`,
    removed: (p) => `${partition(p)}/removed`,
    leader: (p) => `${partition(p)}/leader`,
    users: `${root}/users`,
    user: (name) => `${root}/users/${name}`,
  };
}
