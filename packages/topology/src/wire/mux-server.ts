import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { FrameKind, FrameReader, MUX_PATH, MUX_PROTOCOL, type Frame, type RequestKind } from './frames';
import { FrameWriter } from './frame-writer';

/** Serves one kind of request: the payload in, the answer's payload out. A rejection is sent as `failed`. */
export type MuxHandler = (payload: Buffer) => Promise<Buffer | readonly Buffer[]> | Buffer | readonly Buffer[];

export type MuxHandlers = Partial<Record<RequestKind, MuxHandler>>;

export interface MuxServer {
  /** Ends every connection (requests in flight get no answer, which their senders see as unknown outcomes). */
  close(): void;
}

/**
 * Accepts the internal protocol on an HTTP server's own port: a client
 * sends `GET /internal/mux` with `Upgrade: kvstore-mux/1`, and the socket
 * then carries frames both ways. Each request runs as soon as it is read;
 * answers go back in whatever order they finish.
 */
export function acceptMux(server: Server, handlers: MuxHandlers, onError: (error: Error) => void): MuxServer {
  const sockets = new Set<Socket>();
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const upgrade = request.headers.upgrade;
    if (request.url !== MUX_PATH || upgrade === undefined || upgrade.toLowerCase() !== MUX_PROTOCOL) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.setNoDelay(true);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${MUX_PROTOCOL}\r\n\r\n`);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // HTTP servers allow half-open sockets; a peer that hung up gets no more answers.
    socket.on('end', () => socket.destroy());
    serveFrames(socket, head, handlers, onError);
  });
  return {
    close() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

function serveFrames(socket: Socket, head: Buffer, handlers: MuxHandlers, onError: (error: Error) => void): void {
  const writer = new FrameWriter(socket);
  const answer = (frame: Frame): void => {
    const handler = handlers[frame.kind as RequestKind];
    if (!handler) {
      writer.write(frame.id, FrameKind.failed, Buffer.from(`no handler for frame kind ${frame.kind}`));
      return;
    }
    let result;
    try {
      result = handler(frame.payload);
    } catch (error) {
      writer.write(frame.id, FrameKind.failed, failure(error, onError));
      return;
    }
    if (!(result instanceof Promise)) {
      writer.write(frame.id, FrameKind.ok, result);
      return;
    }
    result.then(
      (payload) => writer.write(frame.id, FrameKind.ok, payload),
      (error: unknown) => writer.write(frame.id, FrameKind.failed, failure(error, onError)),
    );
  };
  const reader = new FrameReader(answer);
  const push = (chunk: Buffer): void => {
    try {
      reader.push(chunk);
    } catch (error) {
      onError(error as Error);
      socket.destroy();
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
