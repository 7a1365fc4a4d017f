import type { Socket } from 'node:net';
import { frameHeader } from './frames';

/**
 * Writes frames to a socket, gathering every frame written in one turn of
 * the event loop into one writev: many requests (or answers) per packet
 * under load, no added latency when idle. The turn, not the tick: all the
 * client requests read in one poll phase go out together, so the peer is
 * woken once for them (on a loaded machine each wake-up can cost the
 * writer its CPU).
 */
export class FrameWriter {
  private corked = false;

  constructor(private readonly socket: Socket) {}

  /** False when the socket's buffer is full: whoever can should stop producing frames until its 'drain'. */
  write(id: number, kind: number, payload: Buffer | readonly Buffer[]): boolean {
    if (this.socket.destroyed) return true;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    const parts = Buffer.isBuffer(payload) ? [payload] : payload;
    let bytes = 0;
    for (const part of parts) bytes += part.length;
    let room = this.socket.write(frameHeader(id, kind, bytes));
    for (const part of parts) if (part.length > 0) room = this.socket.write(part);
    return room;
  }
}
