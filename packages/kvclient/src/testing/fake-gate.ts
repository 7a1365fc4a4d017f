/**
 * An in-memory twin of a gate speaking the public HTTP API of docs/api.md on
 * 127.0.0.1, for tests of the client, the CLI and anything built on them.
 * One process-local map stands in for the whole cluster; faults can be
 * switched on to see how callers cope with errors and broken connections.
 * It also opens a replica's client door (`/v1/mux`), so that it can play
 * the replicas of a self-routing client.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CLIENT_MUX_PATH,
  FrameKind,
  MUX_FRAME_HEADROOM,
  acceptMux,
  type MuxDoor,
  decodeKvFrameRequest,
  encodeKvFrameAnswer,
  type KvFrameAnswer,
  type KvFrameRequest,
  type MuxServer,
} from '@kvstore/wire';
import { gateRequest } from '../key-request';
import {
  DEFAULT_MAX_VALUE_BYTES,
  SLOT_COUNT,
  HEADER_PARTITION,
  HEADER_REPLICA,
  JSON_CONTENT_TYPE,
  KvError,
  OCTET_STREAM,
  badRequest,
  decodeKey,
  isKvUrl,
  notFound,
  payloadTooLarge,
  preconditionFailed,
  splitKvUrl,
  type ClusterView,
  type ErrorCode,
  type ForceRemoveResult,
  type MigrationView,
  type RoutingView,
  isMigrationActive,
  unavailable,
} from '@kvstore/protocol';

/**
 * What every request gets while set: an API error answer; a bare status
 * without the API's error body (a load balancer's 502 when the gate behind
 * it died, perhaps after forwarding); a reset once the request arrived; or
 * no answer at all; or a 429 for a while.
 */
export type Fault =
  | { kind: 'error'; code: ErrorCode; message?: string; /** A NOT_LEADER's hint: the leader's url. */ leader?: string }
  | { kind: 'bare'; status: number }
  | { kind: 'reset' }
  | { kind: 'hang' }
  /** The gate's per-client limit: the next `times` requests get 429 with this Retry-After, then the fault clears. */
  | { kind: 'too-many'; retryAfter: string; times: number };

export interface FakeGateOptions {
  maxValueBytes?: number;
  /** Clock for TTL expiry, in milliseconds. */
  now?: () => number;
  cluster?: ClusterView;
  /** false: no client door (`/v1/mux` answered 404), as a replica from before it. */
  clientDoor?: boolean;
}

interface Entry {
  value: Buffer;
  version: number;
  expiresAtMs: number | null;
}

export const FAKE_PARTITION = 'p0';
export const FAKE_REPLICA = 'fake-r1';

export const SAMPLE_CLUSTER: ClusterView = {
  cluster: 'default',
  ring: { version: 2, partitions: ['p0', 'p1'], slots: { p0: 2050, p1: 2046 }, sealed: true },
  migration: null,
  partitions: [
    {
      name: 'p0',
      epoch: 3,
      leader: 'r1',
      isr: ['r1', 'r2'],
      members: [
        { id: 'r1', url: 'http://127.0.0.1:4001', role: 'leader', lastSeq: 42, lag: 0 },
        { id: 'r2', url: 'http://127.0.0.1:4002', role: 'follower', lastSeq: 41, lag: 1 },
        { id: 'r3', url: 'http://127.0.0.1:4003', role: 'follower', lastSeq: null, lag: null },
      ],
    },
    { name: 'p1', epoch: 1, leader: null, isr: [], members: [] },
  ],
};

export class FakeGate {
  /** Every request received, in order, as "METHOD url". */
  readonly requests: string[] = [];
  readonly entries = new Map<string, Entry>();
  fault: Fault | null = null;
  /** When set, a snapshot stream is cut (the connection destroyed) after this many records, without its trailer. */
  cutSnapshotAfter: number | null = null;
  cluster: ClusterView;
  /** The running or last migration, as the admin routes start, abort and show it (the ring itself never changes here). */
  migration: MigrationView | null = null;
  /** Called at each `GET /v1/admin/migration` before it answers: moves the migration along between polls. */
  onMigrationRead: ((migration: MigrationView) => MigrationView) | null = null;
  /** Connections that asked to upgrade, by path (opened or turned away). */
  readonly upgrades: string[] = [];
  /** What `GET /v1/routing` answers (a self-routing client's table); null: 503, as a gate without a ring. */
  routing: RoutingView | null = null;
  /** What a forced removal says of the keys it gave up (null: no replica answered). */
  forcedRemovalKeys: number | null = null;
  private migrations = 0;
  private sequence = 0;
  private readonly maxValueBytes: number;
  private readonly now: () => number;
  private mux: MuxServer | undefined;

  private constructor(
    private readonly server: http.Server,
    options: FakeGateOptions,
  ) {
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.now = options.now ?? Date.now;
    this.cluster = options.cluster ?? SAMPLE_CLUSTER;
  }

  static async start(options: FakeGateOptions = {}): Promise<FakeGate> {
    const server = http.createServer();
    const gate = new FakeGate(server, options);
    server.on('request', (request, response) => gate.receive(request, response));
    const admission = { handlers: { [FrameKind.typedKv]: (payload: Buffer) => gate.receiveFrame(decodeKvFrameRequest(payload)) }, maxFrameBytes: gate.maxValueBytes + MUX_FRAME_HEADROOM };
    server.on('upgrade', (request: http.IncomingMessage) => gate.upgrades.push(request.url ?? ''));
    const doors: Record<string, MuxDoor> = options.clientDoor === false ? {} : { [CLIENT_MUX_PATH]: { admit: () => admission } };
    gate.mux = acceptMux(server, { doors, onError: () => undefined, onRefused: () => undefined });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return gate;
  }

  /** "127.0.0.1:<port>", the form kvctl's --host takes. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.mux?.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private receive(request: http.IncomingMessage, response: http.ServerResponse): void {
    this.requests.push(`${request.method} ${request.url}`);
    if (this.fault?.kind === 'reset') return void request.socket.destroy();
    if (this.fault?.kind === 'hang') return;
    if (this.fault?.kind === 'bare') {
      response.writeHead(this.fault.status, { 'content-type': 'text/html' });
      return void response.end(`<html><body>${this.fault.status}</body></html>`);
    }
    if (this.fault?.kind === 'too-many') {
      const { retryAfter } = this.fault;
      if (--this.fault.times === 0) this.fault = null;
      response.statusCode = 429;
      response.setHeader('retry-after', retryAfter);
      return void sendJson(response, new KvError('TOO_MANY_REQUESTS', 'over this client\'s limit of request rate').toJSON());
    }
    response.setHeader(HEADER_PARTITION, FAKE_PARTITION);
    response.setHeader(HEADER_REPLICA, FAKE_REPLICA);
    this.route(request, response).catch((error: unknown) => {
      const failure = error instanceof KvError ? error : new KvError('INTERNAL', String(error));
      response.statusCode = failure.status;
      sendJson(response, failure.toJSON());
    });
  }

  /** A typed kv frame on the client door, logged as the gate's url for it; faults as over HTTP (`bare` fails the frame). */
  private async receiveFrame(request: KvFrameRequest): Promise<Buffer[]> {
    this.requests.push(`${request.method} ${gateRequest(request, request.body).path}`);
    const fault = this.fault;
    if (fault?.kind === 'reset') this.mux?.close();
    if (fault?.kind === 'reset' || fault?.kind === 'hang') return new Promise(() => undefined);
    if (fault?.kind === 'bare') throw new Error(`bare ${fault.status}`);
    let answer: KvFrameAnswer;
    try {
      if (fault?.kind === 'too-many') {
        if (--fault.times === 0) this.fault = null;
        throw new KvError('TOO_MANY_REQUESTS', 'over this client\'s limit of request rate');
      }
      if (fault?.kind === 'error') throw new KvError(fault.code, fault.message ?? fault.code, { leader: fault.leader });
      answer = this.serveFrame(request);
    } catch (error) {
      answer = { ok: false, replica: FAKE_REPLICA, error: error instanceof KvError ? error : new KvError('INTERNAL', String(error)), routingVersion: undefined };
    }
    return encodeKvFrameAnswer(answer);
  }

  private serveFrame(request: KvFrameRequest): KvFrameAnswer {
    const { key } = request;
    const ifMatch = request.ifMatch === undefined ? undefined : request.ifMatch === '*' ? '*' : `"${request.ifMatch}"`;
    const json = (value: unknown, version: number | undefined): KvFrameAnswer => ({ ok: true, replica: FAKE_REPLICA, version, contentType: JSON_CONTENT_TYPE, body: Buffer.from(JSON.stringify(value)) });
    if (request.method === 'PUT') {
      if (request.body.length > this.maxValueBytes) throw payloadTooLarge(`value is ${request.body.length} bytes; the limit is ${this.maxValueBytes}`);
      const version = this.store(key, request.body, request.ttl, ifMatch, request.ifNoneMatch);
      return json({ key, version }, version);
    }
    if (request.method === 'DELETE') return json(this.remove(key, ifMatch), undefined);
    const entry = this.live(key);
    if (!entry) throw notFound();
    return { ok: true, replica: FAKE_REPLICA, version: entry.version, contentType: OCTET_STREAM, body: entry.value };
  }

  private async route(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (this.fault?.kind === 'error') throw new KvError(this.fault.code, this.fault.message ?? this.fault.code, { leader: this.fault.leader });
    // The raw url, as the real gate takes it: a WHATWG parse would turn the keys `.` and `..` into other paths.
    const raw = request.url ?? '/';
    if (isKvUrl(raw)) {
      const { encodedKey, query } = splitKvUrl(raw);
      const key = decodeKey(encodedKey);
      const params = query ?? new URLSearchParams();
      if (request.method === 'PUT') return this.put(key, params, request, response);
      if (request.method === 'GET') return this.get(key, params, response);
      if (request.method === 'DELETE') return this.delete(key, request, response);
      throw badRequest(`method ${request.method} not allowed`);
    }
    const url = new URL(raw, 'http://fake');
    if (url.pathname === '/healthz' || url.pathname === '/readyz') return sendJson(response, { ok: true });
    if (url.pathname === '/v1/cluster' && request.method === 'GET') return sendJson(response, this.cluster);
    if (url.pathname === '/v1/routing' && request.method === 'GET') {
      if (!this.routing) throw unavailable('no ring is loaded yet');
      return sendJson(response, this.routing);
    }
    const snapshot = /^\/v1\/admin\/partitions\/([^/]+)\/snapshot$/.exec(url.pathname);
    if (snapshot && request.method === 'GET') return this.snapshot(decodeKey(snapshot[1]!), response);
    const partition = /^\/v1\/admin\/partitions\/([^/]+)$/.exec(url.pathname);
    if (partition && request.method === 'POST') return this.beginMigration('add', decodeKey(partition[1]!), response);
    if (partition && request.method === 'DELETE') {
      const name = decodeKey(partition[1]!);
      return url.searchParams.get('force') === 'true' ? this.forceRemove(name, response) : this.beginMigration('remove', name, response);
    }
    if (url.pathname === '/v1/admin/rebalance' && request.method === 'POST') return this.beginMigration('rebalance', null, response);
    if (url.pathname === '/v1/admin/migration' && request.method === 'GET') {
      if (this.migration && this.onMigrationRead) this.migration = this.onMigrationRead(this.migration);
      return sendJson(response, this.migration);
    }
    if (url.pathname === '/v1/admin/migration/abort' && request.method === 'POST') return this.abortMigration(response);
    throw notFound(`no route ${url.pathname}`);
  }

  /** Refuses as the gate does: one migration at a time, a partition added once, removed only from the ring. */
  private beginMigration(kind: MigrationView['kind'], partition: string | null, response: http.ServerResponse): void {
    this.refuseWhileMoving();
    const onRing = partition !== null && this.cluster.ring.partitions.includes(partition);
    if (kind === 'add' && onRing) throw badRequest(`partition ${partition} is already on the ring`);
    if (kind === 'remove' && !onRing) throw badRequest(`partition ${partition} is not on the ring`);
    this.migration = {
      id: `m-${++this.migrations}`,
      kind,
      partition,
      state: 'running',
      startedAt: this.now(),
      finishedAt: null,
      slotsTotal: SLOT_COUNT / 4,
      slotsMoved: 0,
      keysMoved: 0,
      bytesMoved: 0,
      keysPerSecond: 0,
      etaSeconds: null,
      pauseMsMax: 0,
      pauseMsMean: 0,
      blocked: [],
    };
    response.statusCode = 202;
    sendJson(response, this.migration);
  }

  private forceRemove(partition: string, response: http.ServerResponse): void {
    this.refuseWhileMoving();
    if (!this.cluster.ring.partitions.includes(partition)) throw badRequest(`partition ${partition} is not on the ring`);
    const result: ForceRemoveResult = { partition, ringVersion: this.cluster.ring.version + 1, slotsGivenUp: SLOT_COUNT / 2, keysGivenUp: this.forcedRemovalKeys };
    sendJson(response, result);
  }

  private abortMigration(response: http.ServerResponse): void {
    const { migration } = this;
    if (!migration || (migration.state !== 'running' && migration.state !== 'aborting')) throw new KvError('CONFLICT', 'no migration is running: there is nothing to abort');
    this.migration = { ...migration, state: 'aborting' };
    response.statusCode = 202;
    sendJson(response, this.migration);
  }

  private refuseWhileMoving(): void {
    const state = this.migration?.state;
    if (isMigrationActive(state)) throw new KvError('CONFLICT', `migration ${this.migration!.id} is ${state}: wait for it to finish, or abort it`);
  }

  private async put(
    key: string,
    params: URLSearchParams,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    const value = await readBody(request, this.maxValueBytes);
    const ttl = params.get('ttl');
    if (ttl !== null && !/^[1-9]\d*$/.test(ttl)) throw badRequest('ttl must be whole seconds >= 1');
    const version = this.store(key, value, ttl === null ? undefined : Number(ttl), request.headers['if-match'], request.headers['if-none-match'] === '*');
    response.setHeader('etag', `"${version}"`);
    sendJson(response, { key, version });
  }

  private store(key: string, value: Buffer, ttl: number | undefined, ifMatch: string | undefined, ifNoneMatch: boolean): number {
    checkPreconditions(this.live(key), ifMatch, ifNoneMatch);
    const version = ++this.sequence;
    this.entries.set(key, { value, version, expiresAtMs: ttl === undefined ? null : this.now() + ttl * 1000 });
    return version;
  }

  private get(key: string, params: URLSearchParams, response: http.ServerResponse): void {
    const consistency = params.get('consistency');
    if (consistency !== null && consistency !== 'strong' && consistency !== 'eventual') {
      throw badRequest('consistency must be strong or eventual');
    }
    const entry = this.live(key);
    if (!entry) throw notFound();
    response.setHeader('etag', `"${entry.version}"`);
    response.setHeader('content-type', 'application/octet-stream');
    response.end(entry.value);
  }

  private delete(key: string, request: http.IncomingMessage, response: http.ServerResponse): void {
    sendJson(response, this.remove(key, request.headers['if-match']));
  }

  private remove(key: string, ifMatch: string | undefined): { key: string; deleted: boolean; version: number } {
    const current = this.live(key);
    checkPreconditions(current, ifMatch, false);
    if (!current) return { key, deleted: false, version: this.sequence };
    this.entries.delete(key);
    return { key, deleted: true, version: ++this.sequence };
  }

  /** The partition a key belongs to in this fake: a stable hash over the ring's partitions. */
  partitionOf(key: string): string {
    const partitions = this.cluster.ring.partitions;
    let hash = 0;
    for (const byte of Buffer.from(key, 'utf8')) hash = (hash * 31 + byte) >>> 0;
    return partitions[hash % partitions.length]!;
  }

  /** The gate's snapshot stream: header, the partition's live records, trailer (docs/api.md, "Snapshots"). */
  private snapshot(partition: string, response: http.ServerResponse): void {
    if (!this.cluster.ring.partitions.includes(partition)) throw notFound(`no partition ${JSON.stringify(partition)} on the ring`);
    const records = [...this.entries.keys()]
      .filter((key) => this.partitionOf(key) === partition)
      .flatMap((key) => {
        const entry = this.live(key);
        return entry ? [{ key, value: entry.value.toString('base64'), version: entry.version, expiresAt: entry.expiresAtMs }] : [];
      });
    const epoch = this.cluster.partitions.find((candidate) => candidate.name === partition)?.epoch ?? 1;
    response.setHeader('content-type', 'application/x-ndjson');
    response.setHeader(HEADER_PARTITION, partition);
    response.write(`${JSON.stringify({ partition, seq: this.sequence, epoch, keys: records.length })}\n`);
    let count = 0;
    for (const record of records) {
      if (this.cutSnapshotAfter !== null && count >= this.cutSnapshotAfter) {
        response.flushHeaders();
        return void setImmediate(() => response.socket?.destroy());
      }
      response.write(`${JSON.stringify(record)}\n`);
      count++;
    }
    response.end(`${JSON.stringify({ end: count })}\n`);
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAtMs != null && entry.expiresAtMs <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

/** An address where nothing listens, so connecting to it is refused. */
export async function refusingHost(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

function checkPreconditions(current: Entry | undefined, ifMatch: string | undefined, ifNoneMatch: boolean): void {
  if (ifMatch !== undefined && (!current || ifMatch !== `"${current.version}"`)) {
    throw preconditionFailed(`version does not match ${ifMatch}`);
  }
  if (ifNoneMatch && current) throw preconditionFailed('key exists');
}

async function readBody(request: http.IncomingMessage, limit: number): Promise<Buffer> {
  // The whole body is read before refusing it, so the caller always gets the 413 and never a reset.
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  if (body.length > limit) throw payloadTooLarge(`value is ${body.length} bytes; the limit is ${limit}`);
  return body;
}

function sendJson(response: http.ServerResponse, body: unknown): void {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify(body));
}
