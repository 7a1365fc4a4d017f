/**
 * The internal protocol's frames (DESIGN.md, "Internal protocol"): after an
 * HTTP Upgrade on a replica's own port, both sides exchange
 *
 *   u32 length | u32 id | u8 kind | payload      (length counts id, kind and payload)
 *
 * A request's id is chosen by the caller; its answer carries the same id,
 * so many requests share one connection and answers come back in any order.
 */

export const MUX_PATH = '/internal/mux';
export const MUX_PROTOCOL = 'kvstore-mux/1';

export const HEADER_BYTES = 9;
/** Above the largest value (512 MiB) plus an entry's framing: anything bigger is a broken peer. */
export const MAX_FRAME_BYTES = 600 * 1024 * 1024;

/** Request kinds; each names a handler on the serving side. */
export const FrameKind = {
  kv: 1,
  append: 2,
  installSnapshot: 3,
  /** An answer: the payload is the handler's result. */
  ok: 128,
  /** An answer: the handler failed; the payload is its message (UTF-8). */
  failed: 129,
} as const;

export type RequestKind = typeof FrameKind.kv | typeof FrameKind.append | typeof FrameKind.installSnapshot;

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

/**
 * Cuts a byte stream into frames. Chunks are kept as they arrive and
 * copied once, when a frame that spans several of them is complete.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly onFrame: (frame: Frame) => void) {}

  /** Throws on a frame longer than MAX_FRAME_BYTES: the stream cannot be trusted after that. */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const length = this.peekLength();
      if (length < 5 || length > MAX_FRAME_BYTES) throw new Error(`frame length ${length} is out of bounds`);
      if (this.buffered < length + 4) return;
      const frame = this.take(length + 4);
      this.onFrame({ id: frame.readUInt32BE(4), kind: frame.readUInt8(8), payload: frame.subarray(HEADER_BYTES) });
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
