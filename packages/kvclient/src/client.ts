/**
 * Typed client for the public HTTP API (DESIGN.md) with gate failover.
 *
 * Every gate serves every key, so a request may go to any of them. The client
 * starts with the gate that answered last and moves on to the next one only
 * when a gate gives no answer at all. A write moves on only when it certainly
 * never left this process (the connect failed): after that it may have been
 * applied, and sending it again could apply it twice.
 */
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance } from 'axios';
import {
  HEADER_PARTITION,
  HEADER_REPLICA,
  KvError,
  readErrorBody,
  validateKey,
  type ClusterView,
  type Consistency,
  type DeleteResult,
  type PutResult,
} from '@kvstore/topology';
import { createAgents, type Agents } from './agents';
import { parseHosts } from './hosts';
import { errorFromResponse, isConnectError, networkErrorCode, parseJson } from './http-errors';
import { readPartitionSnapshot, type PartitionSnapshot } from './snapshot';

export interface KvClientOptions {
  /** Gates as "host:port" or urls; a string may hold a comma-separated list. */
  hosts: string | readonly string[];
  /** How long one attempt may wait for the gate to say something. Default 5000. */
  timeoutMs?: number;
  /** How long a connect may take before the next gate is tried. Default min(1000, timeoutMs). */
  connectTimeoutMs?: number;
  /** Further rounds after a failure that is safe to repeat (no gate answered, 503, 421). Default 2. */
  retries?: number;
  /** Pause before the first further round, doubled for each next one. Default 100. */
  retryDelayMs?: number;
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

interface Request {
  method: 'GET' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Sending it twice could apply it twice, so it is never resent once it may have arrived. */
  write: boolean;
}

interface Answer {
  host: string;
  status: number;
  headers: Record<string, unknown>;
  body: Buffer;
}

export class KvClient {
  readonly hosts: readonly string[];
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly agents: Agents;
  private readonly http: AxiosInstance;
  private preferred = 0;

  constructor(options: KvClientOptions) {
    this.hosts = parseHosts(options.hosts);
    const timeoutMs = checkCount('timeoutMs', options.timeoutMs ?? 5000, 1);
    const connectTimeoutMs = checkCount('connectTimeoutMs', options.connectTimeoutMs ?? Math.min(1000, timeoutMs), 1);
    this.retries = checkCount('retries', options.retries ?? 2, 0);
    this.retryDelayMs = checkCount('retryDelayMs', options.retryDelayMs ?? 100, 0);
    this.agents = createAgents(connectTimeoutMs);
    this.http = axios.create({
      adapter: 'http',
      timeout: timeoutMs,
      responseType: 'arraybuffer',
      // Every answer, error or not, is interpreted here rather than thrown by axios.
      validateStatus: () => true,
      maxRedirects: 0,
      // Gates are addressed directly; an HTTP_PROXY meant for the internet must not capture them.
      proxy: false,
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
    });
  }

  /** The gate the next request goes to first: the one that answered last. */
  get currentHost(): string {
    return this.hosts[this.preferred]!;
  }

  async put(key: string, value: Buffer | Uint8Array | string, options: PutOptions = {}): Promise<PutResult> {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
    if (options.ifNoneMatch) headers['if-none-match'] = '*';
    const query = options.ttlSeconds === undefined ? '' : `?ttl=${encodeURIComponent(String(options.ttlSeconds))}`;
    const path = keyPath(key) + query;
    const answer = await this.call({ method: 'PUT', path, headers, body: asBuffer(value), write: true });
    const result = parseJson(answer.body.toString('utf8')) as Partial<PutResult> | undefined;
    return { key, version: versionOf(answer, result?.version) };
  }

  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    const query = options.consistency ? `?consistency=${encodeURIComponent(options.consistency)}` : '';
    const answer = await this.call({ method: 'GET', path: keyPath(key) + query, write: false });
    return {
      key,
      value: answer.body,
      version: versionOf(answer),
      partition: headerOf(answer, HEADER_PARTITION),
      replica: headerOf(answer, HEADER_REPLICA),
    };
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
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
    const answer = await this.call({ method: 'DELETE', path: keyPath(key), headers, write: true });
    const result = parseJson(answer.body.toString('utf8')) as Partial<DeleteResult> | undefined;
    return { key, deleted: result?.deleted === true, version: versionOf(answer, result?.version) };
  }

  async cluster(): Promise<ClusterView> {
    const answer = await this.call({ method: 'GET', path: '/v1/cluster', write: false });
    const view = parseJson(answer.body.toString('utf8'));
    if (typeof view !== 'object' || view === null) {
      throw new KvError('INTERNAL', `${answer.host}: cluster view is not JSON`);
    }
    return view as ClusterView;
  }

  /**
   * Opens the snapshot of one partition, taken by its leader at one sequence
   * number (`GET /v1/admin/partitions/<p>/snapshot`). Resolves once the
   * header has arrived; refusals before that are retried like a read
   * (503, 421, no gate answering). Read `records` to the end or `close()` it.
   */
  async openSnapshot(partition: string): Promise<PartitionSnapshot> {
    if (partition.length === 0) throw new KvError('BAD_REQUEST', 'partition must not be empty');
    const path = `/v1/admin/partitions/${encodeURIComponent(partition)}/snapshot`;
    for (let round = 0; ; round++) {
      let failure: KvError;
      try {
        const answer = await this.exchangeStream(path);
        const replica = typeof answer.headers[HEADER_REPLICA] === 'string' ? (answer.headers[HEADER_REPLICA] as string) : null;
        if (isSuccess(answer.status)) return await readPartitionSnapshot(answer.stream, partition, replica);
        failure = errorFromResponse(answer.status, await readErrorBody(answer.stream));
      } catch (error) {
        if (!(error instanceof KvError)) throw error;
        failure = error;
      }
      if (round >= this.retries || !mayRepeat(failure, { method: 'GET', path, write: false })) throw failure;
      await sleep(this.retryDelayMs * 2 ** round);
    }
  }

  /** Liveness and readiness of the first gate that answers; a probe reports rather than waits, so no retry rounds. */
  async health(): Promise<HealthStatus> {
    const live = await this.exchange({ method: 'GET', path: '/healthz', write: false });
    const ready = await this.exchange({ method: 'GET', path: '/readyz', write: false });
    return { host: live.host, live: isSuccess(live.status), ready: isSuccess(ready.status) };
  }

  /** Closes kept-alive connections; the client must not be used afterwards. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** One request with retry rounds for failures the contract says were not applied. */
  private async call(request: Request): Promise<Answer> {
    for (let round = 0; ; round++) {
      let failure: KvError;
      try {
        const answer = await this.exchange(request);
        if (isSuccess(answer.status)) return answer;
        failure = errorFromResponse(answer.status, answer.body);
      } catch (error) {
        if (!(error instanceof KvError)) throw error;
        failure = error;
      }
      if (round >= this.retries || !mayRepeat(failure, request)) throw failure;
      await sleep(this.retryDelayMs * 2 ** round);
    }
  }

  /** Sends to each gate in turn, starting with the last one that answered, until one answers. */
  private exchange(request: Request): Promise<Answer> {
    return this.onSomeGate(request.write, async (host) => {
      const response = await this.http.request({
        baseURL: host,
        url: request.path,
        method: request.method,
        headers: request.headers,
        data: request.body,
      });
      return { host, status: response.status, headers: response.headers, body: toBuffer(response.data) };
    });
  }

  /** Like exchange, for a GET whose answer is a stream, handed over unread. */
  private exchangeStream(path: string): Promise<{ host: string; status: number; headers: Record<string, unknown>; stream: Readable }> {
    return this.onSomeGate(false, async (host) => {
      const response = await this.http.request<Readable>({ baseURL: host, url: path, method: 'GET', responseType: 'stream' });
      return { host, status: response.status, headers: response.headers, stream: response.data };
    });
  }

  /**
   * Runs `send` against each gate in turn, from the last one that answered,
   * until one answers. A write that may have reached a gate is never sent to
   * another: its outcome is unknown (TIMEOUT).
   */
  private async onSomeGate<T>(write: boolean, send: (host: string) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    let lastCause: unknown;
    for (let offset = 0; offset < this.hosts.length; offset++) {
      const index = (this.preferred + offset) % this.hosts.length;
      const host = this.hosts[index]!;
      try {
        const answer = await send(host);
        this.preferred = index;
        return answer;
      } catch (error) {
        // An axios error with a response cannot happen (validateStatus accepts all); anything else is a bug.
        if (!axios.isAxiosError(error) || error.response) throw error;
        const code = networkErrorCode(error);
        if (write && !isConnectError(error)) {
          throw new KvError('TIMEOUT', `${host} gave no answer (${code}) after the request was sent; the write's outcome is unknown`, {
            cause: error,
          });
        }
        failures.push(`${host}: ${code}`);
        lastCause = error;
      }
    }
    throw new KvError('UNAVAILABLE', `no gate answered (${failures.join(', ')})`, { cause: lastCause });
  }
}


/**
 * Retryable codes (503, 421) mean the request was refused before it reached
 * any log, so even a write may be repeated. A read may also be repeated
 * after a 504, which for a write means "maybe applied".
 */
function mayRepeat(failure: KvError, request: Request): boolean {
  return failure.retryable || (!request.write && failure.code === 'TIMEOUT');
}

function keyPath(key: string): string {
  validateKey(key);
  try {
    return `/v1/kv/${encodeURIComponent(key)}`;
  } catch {
    // encodeURIComponent throws only on a lone surrogate, which has no UTF-8 form.
    throw new KvError('BAD_REQUEST', 'key is not valid UTF-8');
  }
}

/** The version from the JSON body when it has one, else from the ETag. */
function versionOf(answer: Answer, fromBody?: unknown): number {
  if (typeof fromBody === 'number') return fromBody;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(headerOf(answer, 'etag') ?? '');
  if (!match) throw new KvError('INTERNAL', `${answer.host} answered without a version`);
  return Number(match[1]);
}

function headerOf(answer: Answer, name: string): string | null {
  const value = answer.headers[name];
  return typeof value === 'string' ? value : null;
}

/** A view, not a copy: values may be up to a MiB. */
function asBuffer(value: Buffer | Uint8Array | string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.alloc(0);
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function checkCount(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) throw new RangeError(`${name} must be an integer >= ${minimum}`);
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
