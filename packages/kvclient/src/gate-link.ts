/**
 * Exchanges with one gate on plain node:http. The path goes out exactly as
 * built: a WHATWG URL parser (fetch, axios) resolves the dot-segments of the
 * keys `.` and `..`, even percent-encoded, and would ask for another path.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import type { Agents } from './agents';
import { NoAnswer } from './http-errors';

export interface GateRequest {
  method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  /** Path and query, appended as is to the gate's own path prefix. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** How long to wait for this answer, when it may take longer than the link's timeout (a leader transfer). */
  timeoutMs?: number;
}

/** A request of the client to a gate. */
export interface ClientRequest extends GateRequest {
  /** Sending it twice could apply it twice, so it is never resent once it may have arrived. */
  write: boolean;
}

export interface GateAnswer<Body> {
  host: string;
  status: number;
  /** Lower-case names. */
  headers: http.IncomingHttpHeaders;
  body: Body;
}

export class GateLink {
  private readonly target: http.RequestOptions;
  /** The path of a gate behind a reverse proxy, without a trailing slash. */
  private readonly prefix: string;
  private readonly send: typeof http.request;

  /** `host` is a base url as parseHosts gives it. */
  constructor(
    readonly host: string,
    agents: Agents,
    private readonly timeoutMs: number,
    /** Sent with every request: the bearer token, when the client has one. */
    private readonly defaultHeaders: Record<string, string> = {},
  ) {
    const url = new URL(host);
    const secure = url.protocol === 'https:';
    // URL keeps an IPv6 address in brackets; node:http wants it bare.
    this.target = { hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port || undefined, agent: secure ? agents.https : agents.http };
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.send = secure ? https.request : http.request;
  }

  /** One request and its whole answer, within the timeout. Rejects only with NoAnswer. */
  exchange(request: GateRequest): Promise<GateAnswer<Buffer>> {
    return this.start(request, readAll);
  }

  /** A GET whose answer is handed over unread once its header has arrived within the timeout. */
  open(path: string): Promise<GateAnswer<Readable>> {
    return this.start({ method: 'GET', path }, async (response) => response);
  }

  private start<Body>(request: GateRequest, receive: (response: http.IncomingMessage) => Promise<Body>): Promise<GateAnswer<Body>> {
    return new Promise((resolve, reject) => {
      let connected = false;
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const fail = (error: unknown): void =>
        settle(() => {
          outgoing.destroy();
          reject(new NoAnswer(this.host, error, !connected));
        });
      const headers = { ...this.defaultHeaders, ...request.headers, ...(request.body ? { 'content-length': String(request.body.length) } : {}) };
      const outgoing = this.send({ ...this.target, method: request.method, path: this.prefix + request.path, headers }, (response) => {
        receive(response).then(
          (body) => settle(() => resolve({ host: this.host, status: response.statusCode ?? 0, headers: response.headers, body })),
          fail,
        );
      });
      const timeoutMs = request.timeoutMs ?? this.timeoutMs;
      const timer = setTimeout(() => fail(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
      outgoing.once('socket', (socket) => {
        if (socket.connecting) socket.once('connect', () => (connected = true));
        else connected = true;
      });
      // Kept for the request's life: errors after the answer (a stream cut) are the reader's to see.
      outgoing.on('error', fail);
      outgoing.end(request.body);
    });
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
