/** Writes numbers and strings front to back into a buffer sized beforehand (the counterpart of @kvstore/cluster's ByteReader). */
export class ByteWriter {
  offset = 0;
  constructor(readonly buffer: Buffer) {}

  number(value: number): void {
    this.offset = this.buffer.writeDoubleBE(value, this.offset);
  }

  /** u16 bytes | UTF-8 */
  string(text: string): void {
    const bytes = this.buffer.write(text, this.offset + 2, 'utf8');
    this.buffer.writeUInt16BE(bytes, this.offset);
    this.offset += 2 + bytes;
  }

  u8(value: number): void {
    this.offset = this.buffer.writeUInt8(value, this.offset);
  }

  u16(value: number): void {
    this.offset = this.buffer.writeUInt16BE(value, this.offset);
  }

  u32(value: number): void {
    this.offset = this.buffer.writeUInt32BE(value, this.offset);
  }
}

/** What ByteWriter.string takes for `text`. */
export function stringBytes(text: string): number {
  return 2 + Buffer.byteLength(text, 'utf8');
}
