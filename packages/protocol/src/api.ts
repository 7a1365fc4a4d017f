/** Wire types of the public HTTP API (docs/api.md), shared by server, gate, client and CLI. */

import type { RingRecord, UserGrant } from './records';

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
  /** Absent when the gate runs `--auth on` and the caller is no admin. */
  url?: string;
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
  /** Replicas taken out of the in-sync set for maintenance (`kvctl cluster remove-member`); absent when none. */
  excluded?: string[];
  members: MemberView[];
}

/** A replica's public address: where a self-routing client sends requests. */
export interface ReplicaEndpoint {
  id: string;
  url: string;
}

/** One partition in `GET /v1/routing`. */
export interface PartitionRoute {
  epoch: number;
  /** Null while the partition has no leader, or only a deposed one's record. */
  leader: ReplicaEndpoint | null;
  isr: string[];
  /** Live replicas, sorted by id. */
  members: ReplicaEndpoint[];
}

/**
 * `GET /v1/routing`: what a client needs to route requests itself — the
 * slot table as ZooKeeper's `/ring` holds it, and each partition's leader,
 * in-sync set and live replicas, as the gate last read them.
 */
export interface RoutingView {
  ring: RingRecord;
  partitions: Record<string, PartitionRoute>;
}

/** A migration of slots as `/v1/cluster` and `kvctl migration status` show it. */
export interface MigrationView {
  id: string;
  kind: 'add' | 'remove' | 'rebalance';
  partition: string | null;
  state: 'running' | 'aborting' | 'done' | 'aborted';
  startedAt: number;
  finishedAt: number | null;
  slotsTotal: number;
  slotsMoved: number;
  keysMoved: number;
  bytesMoved: number;
  /** Keys per second since the migration started. */
  keysPerSecond: number;
  /** Seconds left at the rate so far (by slots); null when unknown or finished. */
  etaSeconds: number | null;
  /** The longest write pause of a slot batch so far, in ms. */
  pauseMsMax: number;
  /** The mean write pause of the slot batches so far, in ms (0 before the first). */
  pauseMsMean: number;
  /** Why a source cannot go on, by partition. */
  blocked: { partition: string; reason: string }[];
}

/** `DELETE /v1/admin/partitions/<p>?force=true`: what taking a dead partition off the ring gave up. */
export interface ForceRemoveResult {
  partition: string;
  /** The `/ring` version without it. */
  ringVersion: number;
  /** Slots now owned, empty, by the other partitions. */
  slotsGivenUp: number;
  /** The keys its replicas held (the largest count one of them reported); null when none answered. */
  keysGivenUp: number | null;
}

/** `POST /v1/admin/partitions/<p>/leader-transfer`: who led, who leads now, at which epoch. */
export interface LeaderTransferResult {
  partition: string;
  from: string;
  to: string;
  /** The epoch the new leader won. */
  epoch: number;
}

/** `POST /v1/admin/partitions/<p>/members/<id>/remove` and `…/restore`: the partition's sets once ZooKeeper has the change. */
export interface MemberChangeResult {
  partition: string;
  member: string;
  isr: string[];
  /** Replicas kept out of the in-sync set for maintenance. */
  excluded: string[];
}

export interface ClusterView {
  cluster: string;
  /** `slots`: how many of the SLOT_COUNT slots each partition owns; `sealed`: data has been written. Absent from gates that predate them. */
  ring: { version: number; partitions: string[]; slots?: Record<string, number>; sealed?: boolean };
  /** The running (or last) migration; null when there has been none. Absent from gates that predate it. */
  migration?: MigrationView | null;
  partitions: PartitionView[];
  /** Malformed records in ZooKeeper, by path; the gate routes on the last good ones. Absent from gates that predate it. */
  problems?: { path: string; error: string }[];
}

export type Consistency = 'strong' | 'eventual';

/** Response headers every gate answer carries. */
export const HEADER_PARTITION = 'x-kv-partition';
export const HEADER_REPLICA = 'x-kv-replica';
/** The request's id: the client's when well-formed, else one the gate (or a replica asked directly) made; every answer carries it. */
export const HEADER_REQUEST_ID = 'x-request-id';
/** Long enough for a UUID, a W3C traceparent or a prefixed id; short enough to log. */
export const MAX_REQUEST_ID_LENGTH = 128;
/** Printable ASCII without spaces: safe in a header, a log line and a JSON body as given. */
const WELL_FORMED_REQUEST_ID = /^[\x21-\x7e]+$/;

/** Whether a request id may be used as given (a client's X-Request-Id, a kv frame's field). */
export function isWellFormedRequestId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_REQUEST_ID_LENGTH && WELL_FORMED_REQUEST_ID.test(value);
}

/** Made ids are this process's random prefix and a counter: unique enough to find a request's lines in the logs, cheap enough for every request. */
const REQUEST_ID_PREFIX = Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('base64url');
let requestIdsMade = 0;

/** A new request id, `<prefix>-<counter in base 36>`. */
export function newRequestId(): string {
  requestIdsMade += 1;
  return `${REQUEST_ID_PREFIX}-${requestIdsMade.toString(36)}`;
}

/** The content type of a JSON answer. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** A value's type: values are opaque bytes. */
export const OCTET_STREAM = 'application/octet-stream';
/**
 * The `/ring` version a gate routed a request with (request) or a replica
 * judged it by (a WRONG_PARTITION answer): the side with the older one
 * catches up before the request is tried again.
 */
export const HEADER_ROUTING_VERSION = 'x-kv-routing-version';

/** A user of the gates (`/v1/admin/users`): its grants and its tokens' ids, never a token. */
export interface UserView {
  name: string;
  grants: UserGrant[];
  /** Ids only (never a secret); `expiresAt` (ms since the epoch) when the token expires. */
  tokens: { id: string; createdAt: number; expiresAt?: number }[];
}

/** A user just made, or given a new token: the only time the token is shown. */
export interface IssuedToken extends UserView {
  token: string;
}
