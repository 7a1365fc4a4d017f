/**
 * Typed client for the public HTTP API (docs/api.md) with gate failover.
 *
 * Every gate serves every key, so a request may go to any of them. The client
 * starts with the gate that answered last and moves on to the next one when a
 * gate gives no answer at all, or refuses in a way the API defines as not
 * applied (503 UNAVAILABLE, 421 with the API's error body). A write moves on
 * only then, or when it certainly never left this process (the connect
 * failed): otherwise it may have been applied, and sending it again could
 * apply it twice, so its outcome is unknown (TIMEOUT). Reads move on freely.
 *
 * With `routing: 'direct'` the client routes reads and writes of keys itself
 * (direct/): to the replica that serves the key, by the same rules, falling
 * back to the gates for what the replica refused as safe to retry.
 */
import {
  HEADER_REPLICA,
  KvError,
  readErrorBody,
  type ClusterView,
  type Consistency,
  type DeleteResult,
  type ForceRemoveResult,
  type LeaderTransferResult,
  type MemberChangeResult,
  type IssuedToken,
  type MigrationView,
  type UserGrant,
  type UserRole,
  type UserView,
  type PutResult,
  type RoutingView,
  type KvRequest,
} from '@kvstore/protocol';
import { createAgents, type Agents, type GateTls } from './agents';
import { DirectSender } from './direct/direct-sender';
import type { KeyUse } from './direct/direct-routes';
import { RouteCache } from './direct/route-cache';
import { GateLink, type ClientRequest, type GateAnswer } from './gate-link';
import { parseHosts } from './hosts';
import { NoAnswer, errorOf, parseJson, unknownOutcome } from './http-errors';
import { gateRequest, headerOf, keyAnswerOf, keyRequest, versionOf, type KeyAnswer } from './key-request';
import { mayRepeat, withRetries } from './retry';
import { readPartitionSnapshot, type PartitionSnapshot } from './snapshot';

export interface KvClientOptions {
  /** Gates as "host:port" or urls; a string may hold a comma-separated list. */
  hosts: string | readonly string[];
  /** How long one attempt may wait for its whole answer (a snapshot: its header). Default 5000. */
  timeoutMs?: number;
  /** How long a connect may take before the next gate is tried. Default min(1000, timeoutMs). */
  connectTimeoutMs?: number;
  /** Further rounds, each from the next gate, after a failure that is safe to repeat (no gate answered, 503, 421; a 429 after its Retry-After, if that is at most timeoutMs). Default 2. */
  retries?: number;
  /** Pause before the first further round, doubled for each next one. Default 100. */
  retryDelayMs?: number;
  /** A bearer token for gates that run `--auth on`, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** PEM certificate(s) to verify https:// gates against, instead of the system's CAs (the cluster's CA). */
  ca?: string | Buffer;
  /** Do not verify https:// gates at all: for tests only, anyone on the path can read and change the traffic. */
  insecure?: boolean;
  /**
   * 'gate' (default): every request goes through a gate. 'direct': reads and
   * writes of keys go straight to the replica that serves the key (the
   * leader; any in-sync replica for eventual reads) as binary frames on
   * its port (`/v1/mux`), by the routing table of a gate's `/v1/routing`; a
   * refusal that is safe to retry there, and everything else, goes through
   * the gates. The token and the CA apply to the replicas as to the gates.
   */
  routing?: 'gate' | 'direct';
  /** With routing 'direct': how old the routing table may get before it is read again (it is also read at once when a replica's answer shows it wrong). Default 5000. */
  routingRefreshMs?: number;
}

export interface TokenOptions {
  /** The token stops working this many seconds from now; without it, never. */
  expiresInS?: number;
}

export interface PutOptions {
  ttlSeconds?: number;
  /** Compare-and-set: apply only if the key's current version is this one. */
  ifMatch?: number;
  /** Create only: apply only if the key is absent. */
  ifNoneMatch?: boolean;
}

export interface GetOptions {
  consistency?: Consistency;
}

export interface DeleteOptions {
  ifMatch?: number;
}

export interface GetResult {
  key: string;
  value: Buffer;
  version: number;
  /** Who served the read, from the gate's X-Kv-Partition / X-Kv-Replica headers. */
  partition: string | null;
  replica: string | null;
}

export interface HealthStatus {
  host: string;
  live: boolean;
  ready: boolean;
}

type Answer = GateAnswer<Buffer>;

export class KvClient {
  readonly hosts: readonly string[];
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  private readonly agents: Agents;
  private readonly links: readonly GateLink[];
  private preferred = 0;
  /** With routing 'direct': sends key requests to their replicas. */
  private readonly direct: DirectSender | undefined;
  /** How https:// gates are verified (for a caller that reaches the cluster's other processes, like kvctl health). */
  readonly tls: GateTls;

  constructor(options: KvClientOptions) {
    this.hosts = parseHosts(options.hosts);
    const timeoutMs = checkCount('timeoutMs', options.timeoutMs ?? 5000, 1);
    this.timeoutMs = timeoutMs;
    const connectTimeoutMs = checkCount('connectTimeoutMs', options.connectTimeoutMs ?? Math.min(1000, timeoutMs), 1);
    this.retries = checkCount('retries', options.retries ?? 2, 0);
    this.retryDelayMs = checkCount('retryDelayMs', options.retryDelayMs ?? 100, 0);
    this.tls = { ca: options.ca, insecure: options.insecure };
    this.agents = createAgents(connectTimeoutMs, this.tls);
    const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${checkToken(options.token)}` };
    this.links = this.hosts.map((host) => new GateLink(host, this.agents, timeoutMs, headers));
    if (options.routing === 'direct') {
      const routes = new RouteCache(() => this.routing(), checkCount('routingRefreshMs', options.routingRefreshMs ?? 5000, 1));
      const { ca, insecure } = this.tls;
      this.direct = new DirectSender(routes, { token: options.token, tls: () => ({ ca, rejectUnauthorized: insecure !== true }), timeoutMs, connectTimeoutMs });
    }
  }

  /** The gate the next request goes to first: the one that answered last. */
  get currentHost(): string {
    return this.hosts[this.preferred]!;
  }

  async put(key: string, value: Buffer | Uint8Array | string, options: PutOptions = {}): Promise<PutResult> {
    const { ttlSeconds: ttl, ifMatch, ifNoneMatch } = options;
    const fields = keyRequest({ method: 'PUT', key, ttl, consistency: 'strong', ifMatch, ifNoneMatch: ifNoneMatch === true });
    const answer = await this.keyCall(fields, asBuffer(value), 'write');
    const result = parseJson(answer.body.toString('utf8')) as Partial<PutResult> | undefined;
    return { key, version: versionOf(answer, result?.version) };
  }

  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    const consistency = options.consistency ?? 'strong';
    const answer = await this.keyCall(keyRequest({ method: 'GET', key, ttl: undefined, consistency, ifMatch: undefined, ifNoneMatch: false }), EMPTY, consistency);
    return { key, value: answer.body, version: versionOf(answer), partition: answer.partition, replica: answer.replica };
  }

  /** Like get, but an absent key is null instead of a NOT_FOUND error. */
  async getOrNull(key: string, options: GetOptions = {}): Promise<GetResult | null> {
    try {
      return await this.get(key, options);
    } catch (error) {
      if (error instanceof KvError && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    const fields = keyRequest({ method: 'DELETE', key, ttl: undefined, consistency: 'strong', ifMatch: options.ifMatch, ifNoneMatch: false });
    const answer = await this.keyCall(fields, EMPTY, 'write');
    const result = parseJson(answer.body.toString('utf8')) as Partial<DeleteResult> | undefined;
    return { key, deleted: result?.deleted === true, version: versionOf(answer, result?.version) };
  }

  async cluster(): Promise<ClusterView> {
    const answer = await this.call({ method: 'GET', path: '/v1/cluster', write: false });
    return asObject<ClusterView>(parseJson(answer.body.toString('utf8')), answer.host, 'cluster view');
  }

  /** The routing table a self-routing client follows (`GET /v1/routing`): the slot table, and each partition's leader and replicas. */
  async routing(): Promise<RoutingView> {
    const answer = await this.call({ method: 'GET', path: '/v1/routing', write: false });
    return asObject<RoutingView>(parseJson(answer.body.toString('utf8')), answer.host, 'routing view');
  }

  /**
   * Starts moving slots to a new partition (`POST /v1/admin/partitions/<p>`);
   * resolves with the migration as it starts. Like every change of the
   * cluster, it is sent again only when it certainly was not applied.
   */
  async addPartition(partition: string): Promise<MigrationView> {
    return this.admin('POST', partitionPath(partition));
  }

  /**
   * Starts moving a partition's slots to the others (`DELETE
   * /v1/admin/partitions/<p>`). With `force`, takes a partition that is dead
   * for good off the ring at once, giving up its keys, and resolves with
   * what was given up.
   */
  removePartition(partition: string, options?: { force?: false }): Promise<MigrationView>;
  removePartition(partition: string, options: { force: true }): Promise<ForceRemoveResult>;
  removePartition(partition: string, options?: { force?: boolean }): Promise<MigrationView | ForceRemoveResult>;
  async removePartition(partition: string, options: { force?: boolean } = {}): Promise<MigrationView | ForceRemoveResult> {
    return this.admin('DELETE', `${partitionPath(partition)}${options.force ? '?force=true' : ''}`);
  }

  /** Starts moving slots to where the placement of the partitions owning slots puts them (`POST /v1/admin/rebalance`). */
  async rebalance(): Promise<MigrationView> {
    return this.admin('POST', '/v1/admin/rebalance');
  }

  /** The running or last migration (`GET /v1/admin/migration`); null when there has been none. */
  async migration(): Promise<MigrationView | null> {
    const answer = await this.call({ method: 'GET', path: '/v1/admin/migration', write: false });
    const view = parseJson(answer.body.toString('utf8'));
    if (view === null) return null;
    return asObject<MigrationView>(view, answer.host, 'migration view');
  }

  /** Aborts the running migration (`POST /v1/admin/migration/abort`): what already moved moves back. */
  async abortMigration(): Promise<MigrationView> {
    return this.admin('POST', '/v1/admin/migration/abort');
  }

  /**
   * Opens the snapshot of one partition, taken by its leader at one sequence
   * number (`GET /v1/admin/partitions/<p>/snapshot`). Resolves once the
   * header has arrived; failures before that are retried like a read's.
   * Read `records` to the end or `close()` it.
   */
  async openSnapshot(partition: string): Promise<PartitionSnapshot> {
    const path = `${partitionPath(partition)}/snapshot`;
    return this.inRounds(false, async () => {
      const answer = await this.onSomeGate(false, (link) => link.open(path));
      if (!isSuccess(answer.status)) throw errorOf(answer.status, answer.headers, await readErrorBody(answer.body), answer.host);
      return readPartitionSnapshot(answer.body, partition, headerOf(answer, HEADER_REPLICA));
    });
  }

  /**
   * A planned handover of a partition's lead (`POST
   * /v1/admin/partitions/<p>/leader-transfer`) to `to`, or to the most
   * caught-up in-sync follower: resolves once the new leader has won its
   * epoch. `timeoutMs` (default 10 s) bounds the wait for the target to
   * catch up; past it the old leader goes on leading and this rejects
   * with TIMEOUT.
   */
  async transferLeader(partition: string, options: { to?: string; timeoutMs?: number } = {}): Promise<LeaderTransferResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS;
    const query = new URLSearchParams({ ...(options.to === undefined ? {} : { to: options.to }), timeoutMs: String(timeoutMs) });
    // The answer comes after the catch-up and the election that follows it.
    return this.admin('POST', `${partitionPath(partition)}/leader-transfer?${query.toString()}`, { timeoutMs: timeoutMs + TRANSFER_ANSWER_MARGIN_MS });
  }

  /**
   * Takes replica `id` out of a partition's in-sync set for maintenance
   * (`POST /v1/admin/partitions/<p>/members/<id>/remove`); it stays out,
   * and is never elected, until `restoreMember`. Refused (CONFLICT) for the
   * leader and when the set would drop below the replicas' --min-insync.
   */
  async removeMember(partition: string, id: string): Promise<MemberChangeResult> {
    return this.admin('POST', `${partitionPath(partition)}/members/${encodeURIComponent(id)}/remove`);
  }

  /** Lets a removed replica back (`POST /v1/admin/partitions/<p>/members/<id>/restore`): the leader adds it once it has caught up. */
  async restoreMember(partition: string, id: string): Promise<MemberChangeResult> {
    return this.admin('POST', `${partitionPath(partition)}/members/${encodeURIComponent(id)}/restore`);
  }


  /** The users of gates that run `--auth on` (`GET /v1/admin/users`); needs an admin token. */
  async users(): Promise<UserView[]> {
    const answer = await this.call({ method: 'GET', path: '/v1/admin/users', write: false });
    return asObject<{ users: UserView[] }>(parseJson(answer.body.toString('utf8')), answer.host, 'user list').users;
  }

  /** Creates a user with these grants; the answer holds its token, shown this once (expiring after `expiresInS` when given). */
  async addUser(name: string, grants: readonly UserGrant[], options: TokenOptions = {}): Promise<IssuedToken> {
    return this.admin('POST', userPath(name), { json: { grants, ...options } });
  }

  /** Gives the user another token beside its others (rotation); the answer holds it, shown this once. */
  async addUserToken(name: string, options: TokenOptions = {}): Promise<IssuedToken> {
    return this.admin('POST', `${userPath(name)}/tokens`, { json: options });
  }

  /** Takes one of the user's tokens away: it stops working at every gate. */
  async removeUserToken(name: string, tokenId: string): Promise<UserView> {
    if (tokenId.length === 0) throw new KvError('BAD_REQUEST', 'token id must not be empty');
    return this.admin('DELETE', `${userPath(name)}/tokens/${encodeURIComponent(tokenId)}`);
  }

  async removeUser(name: string): Promise<{ name: string; removed: true }> {
    return this.admin('DELETE', userPath(name));
  }

  /** Sets the user's grant of `role`, limited to keys with these prefixes when given (replacing the grant it had). */
  async grant(name: string, role: UserRole, prefixes?: readonly string[]): Promise<UserView> {
    return this.admin('PUT', `${userPath(name)}/grants/${encodeURIComponent(role)}`, { json: prefixes === undefined ? {} : { prefixes } });
  }

  /** Takes the user's grant of `role` away. */
  async revoke(name: string, role: UserRole): Promise<UserView> {
    return this.admin('DELETE', `${userPath(name)}/grants/${encodeURIComponent(role)}`);
  }

  /** An admin change: sent again only when it certainly was not applied, like a write. */
  private async admin<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, options: { json?: unknown; timeoutMs?: number } = {}): Promise<T> {
    const { json, timeoutMs } = options;
    const body = json === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(json)) };
    const answer = await this.call({ method, path, write: true, ...body, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    return asObject<T>(parseJson(answer.body.toString('utf8')), answer.host, 'answer');
  }

  /** Liveness and readiness of the first gate that answers; a probe reports rather than waits, so no retry rounds. */
  async health(): Promise<HealthStatus> {
    const live = await this.onSomeGate(false, (link) => link.exchange({ method: 'GET', path: '/healthz' }));
    const ready = await this.onSomeGate(false, (link) => link.exchange({ method: 'GET', path: '/readyz' }));
    return { host: live.host, live: isSuccess(live.status), ready: isSuccess(ready.status) };
  }

  /** Closes kept-alive connections; the client must not be used afterwards. */
  close(): void {
    this.direct?.stop();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** A key's request: straight to its replica with routing 'direct', else (and when the replica's refusal says so) through the gates. */
  private async keyCall(fields: KvRequest, body: Buffer, use: KeyUse): Promise<KeyAnswer> {
    return (await this.direct?.send(fields, body, use)) ?? keyAnswerOf(await this.call(gateRequest(fields, body)));
  }

  /** One request with retry rounds for failures the contract says were not applied. */
  private call(request: ClientRequest): Promise<Answer> {
    return this.inRounds(request.write, async () => {
      const answer = await this.onSomeGate(request.write, (link) => link.exchange(request));
      if (!isSuccess(answer.status)) throw errorOf(answer.status, answer.headers, answer.body, answer.host);
      return answer;
    });
  }

  /** A gate that refused may be the one in trouble (cut off from ZooKeeper), so each further round starts at the next gate. */
  private inRounds<T>(write: boolean, attempt: () => Promise<T>): Promise<T> {
    return withRetries(
      {
        retries: this.retries,
        delayMs: this.retryDelayMs,
        // A gate's 429 was refused before anything was forwarded: any request may wait it out, for as long as one attempt may take.
        maxRetryAfterMs: this.timeoutMs,
        mayRepeat: (failure) => mayRepeat(failure, write),
        beforeRetry: () => (this.preferred = (this.preferred + 1) % this.links.length),
      },
      attempt,
    );
  }

  /**
   * Runs `send` against each gate in turn, from the last one that answered,
   * until one answers. A write that may have reached a gate is never sent to
   * another: its outcome is unknown (TIMEOUT).
   */
  private async onSomeGate<T>(write: boolean, send: (link: GateLink) => Promise<T>): Promise<T> {
    const failures: NoAnswer[] = [];
    for (let offset = 0; offset < this.links.length; offset++) {
      const index = (this.preferred + offset) % this.links.length;
      try {
        const answer = await send(this.links[index]!);
        this.preferred = index;
        return answer;
      } catch (error) {
        if (!(error instanceof NoAnswer)) throw error;
        if (write && !error.sentNothing) {
          throw unknownOutcome(error);
        }
        failures.push(error);
      }
    }
    throw new KvError('UNAVAILABLE', `no gate answered (${failures.map((failure) => failure.message).join(', ')})`, { cause: failures.at(-1) });
  }
}

const EMPTY = Buffer.alloc(0);
const DEFAULT_TRANSFER_TIMEOUT_MS = 10_000;
/** Past a transfer's catch-up: the handover, the target's election, the gate seeing it. */
const TRANSFER_ANSWER_MARGIN_MS = 10_000;

function partitionPath(partition: string): string {
  if (partition.length === 0) throw new KvError('BAD_REQUEST', 'partition must not be empty');
  return `/v1/admin/partitions/${encodeURIComponent(partition)}`;
}

function userPath(name: string): string {
  if (name.length === 0) throw new KvError('BAD_REQUEST', 'user name must not be empty');
  return `/v1/admin/users/${encodeURIComponent(name)}`;
}

/** A header value cannot hold a line break; a token with one (a file read without trimming) is refused here, not by node:http. */
function checkToken(token: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) throw new TypeError('token must be printable ASCII without spaces');
  return token;
}

function asObject<T>(value: unknown, host: string, what: string): T {
  if (typeof value !== 'object' || value === null) throw new KvError('INTERNAL', `${host}: ${what} is not JSON`);
  return value as T;
}

/** A view, not a copy: values may be up to a MiB. */
function asBuffer(value: Buffer | Uint8Array | string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function checkCount(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) throw new RangeError(`${name} must be an integer >= ${minimum}`);
  return value;
}

