/** Wire types of the public HTTP API (docs/api.md), shared by server, gate, client and CLI. */

export interface PutResult {
  key: string;
  version: number;
}

export interface DeleteResult {
  key: string;
  deleted: boolean;
  version: number;
}

export type Role = 'leader' | 'follower';

export interface MemberView {
  id: string;
  url: string;
  role: Role;
  /** Highest sequence number in this replica's log; null when the replica did not answer. */
  lastSeq: number | null;
  /** How far behind the leader's last sequence number; null when unknown. */
  lag: number | null;
}

export interface PartitionView {
  name: string;
  epoch: number;
  leader: string | null;
  isr: string[];
  members: MemberView[];
}

export interface ClusterView {
  cluster: string;
  ring: { version: number; partitions: string[] };
  partitions: PartitionView[];
  /** Malformed records in ZooKeeper, by path; the gate routes on the last good ones. Absent from gates that predate it. */
  problems?: { path: string; error: string }[];
}

export type Consistency = 'strong' | 'eventual';

/** Response headers every gate answer carries. */
export const HEADER_PARTITION = 'x-kv-partition';
export const HEADER_REPLICA = 'x-kv-replica';
