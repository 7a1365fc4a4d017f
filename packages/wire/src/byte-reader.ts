/** Reads a frame's payload front to back, throwing (never reading past the end) when it is truncated. */
export class ByteReader {
  offset = 0;

  constructor(
    readonly buffer: Buffer,
    /** Names the payload in errors. */
    private readonly what: string,
  ) {}

  u8(): number {
    this.need(1);
    return this.buffer.readUInt8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  float64(): number {
    this.need(8);
    const value = this.buffer.readDoubleBE(this.offset);
    this.offset += 8;
    return value;
  }

  text(bytes: number, encoding: 'latin1' | 'utf8'): string {
    this.need(bytes);
    const value = this.buffer.toString(encoding, this.offset, this.offset + bytes);
    this.offset += bytes;
    return value;
  }

  /** A view of the next `bytes` bytes (not a copy). */
  view(bytes: number): Buffer {
    this.need(bytes);
    const value = this.buffer.subarray(this.offset, this.offset + bytes);
    this.offset += bytes;
    return value;
  }

  rest(): Buffer {
    return this.view(this.buffer.length - this.offset);
  }

  private need(bytes: number): void {
    if (this.offset + bytes > this.buffer.length) throw new Error(`${this.what} is truncated`);
  }
}
