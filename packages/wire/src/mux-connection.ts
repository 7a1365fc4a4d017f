import * as net from 'node:net';
import * as tls from 'node:tls';
import { FrameKind, FrameReader, MUX_PROTOCOL, parseFrameKinds, type Frame, type RequestKind } from './frames';
import { FrameWriter } from './frame-writer';
import { TransportError, UpgradeRefusedError } from './transport-error';

interface Pending {
  resolve(payload: Buffer): void;
  reject(error: TransportError): void;
  timer: NodeJS.Timeout;
}

export interface MuxRequest {
  kind: RequestKind;
  payload: Buffer | readonly Buffer[];
}

/** Picks what to send by the request kinds the peer serves, known once the connection is open. */
export type MuxChoice = (peerKinds: ReadonlySet<number>) => MuxRequest;

interface Queued {
  id: number;
  choose: MuxChoice;
}

const HANDSHAKE_END = '\r\n\r\n';
const MAX_HANDSHAKE_BYTES = 4096;
/** Ids wrap well before u32 does; a request is long answered by then. */
const MAX_ID = 0x7fffffff;

/**
 * Who opens a connection, and so which door of the replica it knocks on:
 * a peer proves the cluster secret on `/internal/mux`, a client shows its
 * bearer token (if any) on `/v1/mux`.
 */
export interface MuxCredentials {
  path: string;
  /** The upgrade's header lines that prove the caller, each ending in CRLF; made anew for each connection. */
  headerLines(): string;
}

export interface MuxConnectionOptions {
  credentials: MuxCredentials;
  /** The longest answer frame accepted; a longer one closes the connection. */
  maxFrameBytes: number;
  connectTimeoutMs: number;
  /** For an https:// replica: the CA to verify it against and this process's certificate (undefined: the system's CAs, no certificate). */
  tls?: () => tls.ConnectionOptions;
}

/**
 * One multiplexed connection to a replica: connects, upgrades (with the
 * caller's credentials), then carries any number of concurrent requests.
 * Requests made while it connects wait in a queue and fail as `refused` if
 * it never opens. Its memory is bounded by its callers (their requests in
 * flight) and by maxFrameBytes per answer.
 */
export class MuxConnection {
  private readonly socket: net.Socket;
  private readonly writer: FrameWriter;
  private readonly pending = new Map<number, Pending>();
  private queue: Queued[] | undefined = [];
  private nextId = 1;
  private closedBecause: Error | undefined;
  private peerKinds: ReadonlySet<number> = new Set();

  constructor(
    private readonly origin: URL,
    private readonly options: MuxConnectionOptions,
    private readonly onClose: (connection: MuxConnection) => void,
  ) {
    const { connectTimeoutMs } = options;
    const secure = origin.protocol === 'https:';
    this.socket = secure
      ? tls.connect({ ...options.tls?.(), ...tlsTarget(origin) })
      : net.connect({ host: origin.hostname, port: Number(origin.port || 80) });
    this.socket.setNoDelay(true);
    this.writer = new FrameWriter(this.socket);
    const connectTimer = setTimeout(() => this.fail(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    connectTimer.unref();
    this.socket.once(secure ? 'secureConnect' : 'connect', () => {
      const { path, headerLines } = options.credentials;
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: Upgrade\r\nUpgrade: ${MUX_PROTOCOL}\r\n${headerLines()}\r\n`);
    });
    this.readHandshake(() => clearTimeout(connectTimer));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
  }

  get closed(): boolean {
    return this.closedBecause !== undefined;
  }

  /** Requests in flight or waiting for the connection. */
  get load(): number {
    return this.pending.size + (this.queue?.length ?? 0);
  }

  call(kind: RequestKind, payload: Buffer | readonly Buffer[], timeoutMs: number): Promise<Buffer> {
    return this.callChoosing(() => ({ kind, payload }), timeoutMs);
  }

  /** `choose` runs when the request is written (at once, or when the connection opens) and must not throw. */
  callChoosing(choose: MuxChoice, timeoutMs: number): Promise<Buffer> {
    if (this.closedBecause) return Promise.reject(this.refused(this.closedBecause));
    const id = this.nextId;
    this.nextId = id >= MAX_ID ? 1 : id + 1;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        // Still queued means never sent; once written, the outcome is unknown.
        const queued = this.queue?.findIndex((item) => item.id === id) ?? -1;
        if (queued >= 0) {
          this.queue!.splice(queued, 1);
          reject(new TransportError('refused', `${this.origin.host}: not connected within ${timeoutMs} ms`));
        } else {
          reject(new TransportError('unknown-outcome', `${this.origin.host}: no answer within ${timeoutMs} ms`));
        }
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      if (this.queue) this.queue.push({ id, choose });
      else this.write(id, choose);
    });
  }

  close(): void {
    this.fail(new Error('connection closed by this side'));
    this.socket.destroy();
  }

  private readHandshake(onOpen: () => void): void {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      const end = text.indexOf(HANDSHAKE_END);
      if (end < 0) {
        if (text.length > MAX_HANDSHAKE_BYTES) this.fail(new Error('handshake answer too long'));
        return;
      }
      this.socket.off('data', onData);
      const statusLine = text.slice(0, text.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 101 /.test(statusLine)) {
        this.fail(new UpgradeRefusedError(statusLine));
        return;
      }
      onOpen();
      this.peerKinds = parseFrameKinds(text.slice(0, end));
      this.open(Buffer.from(text.slice(end + HANDSHAKE_END.length), 'latin1'));
    };
    this.socket.on('data', onData);
  }

  private open(rest: Buffer): void {
    const reader = new FrameReader((frame) => this.onFrame(frame), this.options.maxFrameBytes);
    const push = (chunk: Buffer): void => {
      try {
        reader.push(chunk);
      } catch (error) {
        this.fail(error as Error);
      }
    };
    this.socket.on('data', push);
    const queued = this.queue ?? [];
    this.queue = undefined;
    for (const { id, choose } of queued) this.write(id, choose);
    if (rest.length > 0) push(rest);
  }

  private write(id: number, choose: MuxChoice): void {
    const { kind, payload } = choose(this.peerKinds);
    this.writer.write(id, kind, payload);
  }

  private onFrame(frame: Frame): void {
    const pending = this.pending.get(frame.id);
    if (!pending) return; // Timed out already.
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.kind === FrameKind.ok) pending.resolve(frame.payload);
    else pending.reject(new TransportError('unknown-outcome', `${this.origin.host}: the request failed there: ${frame.payload.toString('utf8')}`));
  }

  private refused(cause: Error): TransportError {
    return new TransportError('refused', `${this.origin.host}: could not connect (${cause.message})`, { cause });
  }

  /** Fails everything: queued requests were never sent; written ones have an unknown outcome. */
  private fail(cause: Error): void {
    if (this.closedBecause) return;
    this.closedBecause = cause;
    const queued = new Set((this.queue ?? []).map((item) => item.id));
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      const reason = (cause as { code?: string }).code ?? cause.message;
      pending.reject(
        queued.has(id)
          ? this.refused(cause)
          : new TransportError('unknown-outcome', `${this.origin.host}: connection lost with the request in flight (${reason})`, { cause }),
      );
    }
    this.pending.clear();
    this.queue = [];
    this.socket.destroy();
    this.onClose(this);
  }
}

/** tls.connect's options for a url's host: SNI only for names (Node refuses an IP as a server name). */
export function tlsTarget(origin: URL): { host: string; port: number; servername?: string } {
  const host = origin.hostname.replace(/^\[|\]$/g, '');
  const port = Number(origin.port || 443);
  return net.isIP(host) === 0 ? { host, port, servername: host } : { host, port };
}
