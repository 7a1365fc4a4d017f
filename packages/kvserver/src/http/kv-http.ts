import type { IncomingMessage, ServerResponse } from 'node:http';
import { FrameKind, decodeKvRequest, encodeKvAnswer, header, readBody, sendAnswer, type MuxHandlers } from '@kvstore/cluster';
import { HEADER_ROUTING_VERSION } from '@kvstore/protocol';
import type { KvService } from './kv-service';

const EMPTY: Buffer = Buffer.alloc(0);

/** `/v1/kv` over plain node:http: read the body (bounded), serve, answer. */
export async function serveKvHttp(kv: KvService, request: IncomingMessage, response: ServerResponse, maxValueBytes: number): Promise<void> {
  const method = request.method ?? 'GET';
  let body = EMPTY;
  if (method === 'PUT') {
    try {
      body = await readBody(request, maxValueBytes);
    } catch (error) {
      sendAnswer(response, kv.refusal(error));
      return;
    }
  }
  const call = {
    method,
    url: request.url ?? '/',
    ifMatch: header(request, 'if-match'),
    ifNoneMatch: header(request, 'if-none-match'),
    routingVersion: header(request, HEADER_ROUTING_VERSION),
    body,
  };
  sendAnswer(response, await kv.serve(call));
}

/** `/v1/kv` over the internal protocol: how a gate forwards requests. */
export function kvMuxHandler(kv: KvService): MuxHandlers {
  return {
    [FrameKind.kv]: async (payload: Buffer) => {
      const request = decodeKvRequest(payload);
      const answer = await kv.serve({
        method: request.method,
        url: request.path,
        ifMatch: request.headers['if-match'],
        ifNoneMatch: request.headers['if-none-match'],
        routingVersion: request.headers[HEADER_ROUTING_VERSION],
        body: request.body,
      });
      return encodeKvAnswer(answer);
    },
  };
}
