/** The largest error answer worth reading: an `{"error":{...}}` body is small. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Reads an error answer's body from a stream that would otherwise carry a
 * large payload (a snapshot), at most `limit` bytes; a body that fails
 * midway gives what arrived, which is enough to pick a code by status.
 */
export async function readErrorBody(body: AsyncIterable<unknown> & { destroy(): void }, limit = MAX_ERROR_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      chunks.push(buffer);
      size += buffer.length;
      if (size > limit) break;
    }
  } catch {
    // What arrived is enough.
  }
  body.destroy();
  return Buffer.concat(chunks);
}
