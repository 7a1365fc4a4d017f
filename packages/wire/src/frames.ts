/**
 * The internal protocol's frames (docs/internal-protocol.md): after an
 * HTTP Upgrade on a replica's own port, both sides exchange
 *
 *   u32 length | u32 id | u8 kind | payload      (length counts id, kind and payload)
 *
 * A request's id is chosen by the caller; its answer carries the same id,
 * so many requests share one connection and answers come back in any order.
 */

/** Where peers (gates, replicas) upgrade, proving the cluster secret. */
export const MUX_PATH = '/internal/mux';
/** Where clients upgrade, with a user's bearer token when the replica runs `--auth on`: kv requests only. */
export const CLIENT_MUX_PATH = '/v1/mux';
export const MUX_PROTOCOL = 'kvstore-mux/1';

const HEADER_BYTES = 9;
/**
 * Room for a frame's head above the largest payload a peer may send: a kv
 * request's method, path and headers (Node bounds a request's headers at
 * 16 KiB), an answer's status and headers.
 */
export const MUX_FRAME_HEADROOM = 64 * 1024;

/** Request kinds; each names a handler on the serving side. */
export const FrameKind = {
  kv: 1,
  append: 2,
  installSnapshot: 3,
  /** Resharding: a source partition's leader hands slots' data to the destination's leader. */
  importSlots: 4,
  /** A public request as typed fields (kv-frame.ts); `kv` carries it as a url and headers, for replicas that predate this one. */
  typedKv: 5,
  /** An answer: the payload is the handler's result. */
  ok: 128,
  /** An answer: the handler failed; the payload is its message (UTF-8). */
  failed: 129,
} as const;

export type RequestKind =
  | typeof FrameKind.kv
  | typeof FrameKind.append
  | typeof FrameKind.installSnapshot
  | typeof FrameKind.importSlots
  | typeof FrameKind.typedKv;

/**
 * The upgrade's answer lists the request kinds the server handles, so a
 * client sends a newer kind only to a peer that serves it (a rolling
 * upgrade); a peer without the header serves kinds 1 to 4.
 */
export const FRAME_KINDS_HEADER = 'x-kv-frame-kinds';

export function frameKindsHeader(kinds: Iterable<number>): string {
  return `${FRAME_KINDS_HEADER}: ${[...kinds].join(',')}`;
}

/** The kinds in an upgrade answer's head (its status line and headers, CRLF-separated); empty without the header. */
export function parseFrameKinds(head: string): Set<number> {
  const kinds = new Set<number>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== FRAME_KINDS_HEADER) continue;
    for (const part of line.slice(colon + 1).split(',')) {
      const kind = Number(part.trim());
      if (Number.isInteger(kind) && kind > 0 && kind < 128) kinds.add(kind);
    }
  }
  return kinds;
}

export function frameHeader(id: number, kind: number, payloadBytes: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32BE(payloadBytes + 5, 0);
  header.writeUInt32BE(id, 4);
  header.writeUInt8(kind, 8);
  return header;
}

export interface Frame {
  id: number;
  kind: number;
  payload: Buffer;
}

/** A frame's length is out of bounds: the stream cannot be trusted after it, so the connection is closed. */
export class FrameLengthError extends Error {
  override name = 'FrameLengthError';
}

/**
 * Cuts a byte stream into frames. Chunks are kept as they arrive and
 * copied once, when a frame that spans several of them is complete.
 * Paused, it holds what it has read and hands out no frames until resumed.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private paused = false;
  private reading = false;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    /** The longest frame accepted (its length field: id, kind and payload). */
    private readonly maxFrameBytes: number,
  ) {}

  /** Throws FrameLengthError on a frame longer than maxFrameBytes (or too short to hold its header). */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.read();
  }

  pause(): void {
    this.paused = true;
  }

  /** Hands out the frames held while paused; throws as push does. */
  resume(): void {
    this.paused = false;
    this.read();
  }

  private read(): void {
    // onFrame may pause and resume again: the loop already running picks that up.
    if (this.reading) return;
    this.reading = true;
    try {
      while (!this.paused && this.buffered >= 4) {
        const length = this.peekLength();
        if (length < 5 || length > this.maxFrameBytes) {
          throw new FrameLengthError(`frame length ${length} is out of bounds (5 to ${this.maxFrameBytes})`);
        }
        if (this.buffered < length + 4) return;
        const frame = this.take(length + 4);
        this.onFrame({ id: frame.readUInt32BE(4), kind: frame.readUInt8(8), payload: frame.subarray(HEADER_BYTES) });
      }
    } finally {
      this.reading = false;
    }
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    return Buffer.concat(this.chunks, 4).readUInt32BE(0);
  }

  private take(bytes: number): Buffer {
    const first = this.chunks[0]!;
    let frame: Buffer;
    if (first.length >= bytes) {
      frame = first.subarray(0, bytes);
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      frame = all.subarray(0, bytes);
      this.chunks = all.length > bytes ? [all.subarray(bytes)] : [];
    }
    this.buffered -= bytes;
    return frame;
  }
}
