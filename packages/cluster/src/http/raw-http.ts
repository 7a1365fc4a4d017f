import type { IncomingMessage, ServerResponse } from 'node:http';
import { HEADER_REQUEST_ID, JSON_CONTENT_TYPE, KvError, payloadTooLarge } from '@kvstore/protocol';

/**
 * The public data path on plain node:http, shared by kvgate and kvserver.
 * Express costs several times the CPU of a request here, so `/v1/kv` is
 * served without it; everything else (admin, cluster view) still is. The
 * url itself is @kvstore/protocol's (kv-url.ts).
 */

export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function tooLarge(limit: number): KvError {
  return payloadTooLarge(`body is larger than the limit of ${limit} bytes`);
}

/** The whole body, refused with 413 as soon as it is known to exceed `limit` bytes. */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}

export interface Answer {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
}


export function jsonAnswer(status: number, value: unknown, headers: Record<string, string> = {}): Answer {
  return { status, headers: { ...headers, 'content-type': JSON_CONTENT_TYPE }, body: Buffer.from(JSON.stringify(value)) };
}

/**
 * The one shape of a refusal: `{"error":{"code","message"[,"leader"][,"requestId"]}}`
 * with the status of its code. `requestId` is the X-Request-Id among `headers`,
 * so the body and the header never disagree.
 */
export function errorAnswer(error: KvError, headers: Record<string, string> = {}): Answer {
  const body = error.toJSON();
  const requestId = headers[HEADER_REQUEST_ID];
  if (requestId !== undefined) body.error.requestId = requestId;
  return jsonAnswer(error.status, body, headers);
}

/** Whatever a request's handling threw, as an answer: a KvError as itself, anything else as a 500 that says nothing of it (`onUnexpected` gets the error). */
export function refusalAnswer(error: unknown, headers: Record<string, string>, onUnexpected: (error: unknown) => void): Answer {
  if (error instanceof KvError) return errorAnswer(error, headers);
  onUnexpected(error);
  return errorAnswer(new KvError('INTERNAL', 'internal error'), headers);
}

export function sendAnswer(response: ServerResponse, answer: Answer): void {
  if (response.headersSent || response.destroyed) return;
  const headers: Record<string, string | number> = { ...answer.headers, 'content-length': answer.body.length };
  // A body refused for its size is not read; closing spares reading the rest.
  if (answer.status === 413) headers.connection = 'close';
  response.writeHead(answer.status, headers);
  response.end(answer.body);
}
