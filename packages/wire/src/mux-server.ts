import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { FrameKind, FrameReader, MUX_PROTOCOL, frameKindsHeader, type Frame, type RequestKind } from './frames';
import { FrameWriter } from './frame-writer';

/** Serves one kind of request: the payload in, the answer's payload out. A rejection is sent as `failed`. */
export type MuxHandler = (payload: Buffer) => Promise<Buffer | readonly Buffer[]> | Buffer | readonly Buffer[];

export type MuxHandlers = Partial<Record<RequestKind, MuxHandler>>;

/** Requests one connection may have in flight before its socket is no longer read. */
const DEFAULT_MAX_IN_FLIGHT = 1024;

/** What a connection that came in through a door may ask, and the longest frame it may send. */
export interface MuxAdmission {
  handlers: MuxHandlers;
  maxFrameBytes: number;
}

/**
 * One path a connection may upgrade on, and who may: `admit` sees the
 * upgrade request and its socket (a TLS client certificate) and answers
 * what the connection may do, or throws (or rejects) with the reason it is
 * refused: the upgrade is then answered 401 and closed.
 */
export interface MuxDoor {
  admit(request: IncomingMessage, socket: Socket): MuxAdmission | Promise<MuxAdmission>;
}

export interface MuxServerOptions {
  /** By upgrade path: `/internal/mux` for peers (@kvstore/cluster's peerMuxDoor), `/v1/mux` for clients (kvserver's clientMuxDoor). Any other path is answered 404. */
  doors: Readonly<Record<string, MuxDoor>>;
  /** Default DEFAULT_MAX_IN_FLIGHT. */
  maxInFlight?: number;
  /** A handler failed (its request is answered `failed`). */
  onError(error: Error): void;
  /** A connection was refused or closed for misbehaving: once per connection, never with what it proved itself with. */
  onRefused(refusal: { remote: string; reason: string }): void;
}

export interface MuxServer {
  /** Ends every connection (requests in flight get no answer, which their senders see as unknown outcomes). */
  close(): void;
  /** Open connections by the door they came in through (for metrics). */
  connections(): Map<string, number>;
}

function refuse(socket: Socket, statusLine: string): void {
  socket.end(`HTTP/1.1 ${statusLine}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  // A peer that keeps its side open must not keep the socket.
  socket.once('finish', () => socket.destroy());
}

/**
 * Accepts the binary protocol on an HTTP server's own port: a caller sends
 * `GET <door> HTTP/1.1` with `Upgrade: kvstore-mux/1` and what the door
 * wants, and the socket then carries frames both ways. Each request runs as
 * soon as it is read; answers go back in whatever order they finish.
 */
export function acceptMux(server: Server, options: MuxServerOptions): MuxServer {
  const sockets = new Map<Socket, string>();
  const open = (socket: Socket, head: Buffer, door: string, { handlers, maxFrameBytes }: MuxAdmission): void => {
    if (socket.destroyed) return;
    socket.setNoDelay(true);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${MUX_PROTOCOL}\r\n${frameKindsHeader(Object.keys(handlers).map(Number))}\r\n\r\n`);
    sockets.set(socket, door);
    socket.on('close', () => sockets.delete(socket));
    // HTTP servers allow half-open sockets; a peer that hung up gets no more answers.
    socket.on('end', () => socket.destroy());
    serveFrames(socket, head, handlers, maxFrameBytes, options);
  };
  const turnAway = (socket: Socket, error: unknown): void => {
    options.onRefused({ remote: remoteOf(socket), reason: (error as Error).message });
    refuse(socket, '401 Unauthorized');
  };
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    // Every upgraded socket, refused or served: an error ends it, never the process.
    socket.on('error', () => socket.destroy());
    const upgrade = request.headers.upgrade;
    const path = request.url ?? '';
    const door = Object.hasOwn(options.doors, path) ? options.doors[path] : undefined;
    if (door === undefined || upgrade === undefined || upgrade.toLowerCase() !== MUX_PROTOCOL) {
      refuse(socket, '404 Not Found');
      return;
    }
    let admission;
    try {
      admission = door.admit(request, socket);
    } catch (error) {
      turnAway(socket, error);
      return;
    }
    if (!(admission instanceof Promise)) open(socket, head, path, admission);
    else admission.then((admitted) => open(socket, head, path, admitted), (error: unknown) => turnAway(socket, error));
  });
  return {
    close() {
      for (const socket of sockets.keys()) socket.destroy();
    },
    connections() {
      const counts = new Map<string, number>();
      for (const door of sockets.values()) counts.set(door, (counts.get(door) ?? 0) + 1);
      return counts;
    },
  };
}

function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}

/**
 * One connection's requests. Its memory is bounded: a frame by
 * maxFrameBytes, the requests in flight by maxInFlight, and the answers
 * waiting to be sent by the socket's buffer: while either is full, the
 * socket is not read (the peer's own writes then back up).
 */
function serveFrames(socket: Socket, head: Buffer, handlers: MuxHandlers, maxFrameBytes: number, options: Pick<MuxServerOptions, 'maxInFlight' | 'onError' | 'onRefused'>): void {
  const { onError } = options;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const writer = new FrameWriter(socket);
  let inFlight = 0;
  let waitingForDrain = false;
  let reading = true;

  const closeFor = (error: Error): void => {
    options.onRefused({ remote: remoteOf(socket), reason: error.message });
    socket.destroy();
  };
  const flow = (): void => {
    const read = inFlight < maxInFlight && !waitingForDrain;
    if (read === reading || socket.destroyed) return;
    reading = read;
    if (!read) {
      reader.pause();
      socket.pause();
      return;
    }
    socket.resume();
    try {
      reader.resume();
    } catch (error) {
      closeFor(error as Error);
    }
  };
  const send = (id: number, kind: number, payload: Buffer | readonly Buffer[]): void => {
    if (!writer.write(id, kind, payload) && !waitingForDrain) {
      waitingForDrain = true;
      socket.once('drain', () => {
        waitingForDrain = false;
        flow();
      });
    }
  };
  const answered = (): void => {
    inFlight -= 1;
    flow();
  };

  const answer = (frame: Frame): void => {
    const handler = handlers[frame.kind as RequestKind];
    if (!handler) {
      send(frame.id, FrameKind.failed, Buffer.from(`no handler for frame kind ${frame.kind}`));
      flow();
      return;
    }
    inFlight += 1;
    let result;
    try {
      result = handler(frame.payload);
    } catch (error) {
      send(frame.id, FrameKind.failed, failure(error, onError));
      answered();
      return;
    }
    if (!(result instanceof Promise)) {
      send(frame.id, FrameKind.ok, result);
      answered();
      return;
    }
    flow();
    result.then(
      (payload) => {
        send(frame.id, FrameKind.ok, payload);
        answered();
      },
      (error: unknown) => {
        send(frame.id, FrameKind.failed, failure(error, onError));
        answered();
      },
    );
  };
  const reader = new FrameReader(answer, maxFrameBytes);
  const push = (chunk: Buffer): void => {
    try {
      reader.push(chunk);
    } catch (error) {
      closeFor(error as Error);
    }
  };
  socket.on('data', push);
  if (head.length > 0) push(head);
}

function failure(error: unknown, onError: (error: Error) => void): Buffer {
  const cause = error instanceof Error ? error : new Error(String(error));
  onError(cause);
  return Buffer.from(cause.message, 'utf8');
}
