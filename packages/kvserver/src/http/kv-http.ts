import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FrameKind, SlowRequestLog, decodeKvRequest, encodeKvAnswer, header, readBody, requestIdFor, sendAnswer, type Answer, type MuxHandlers } from '@kvstore/cluster';
import { HEADER_PARTITION, HEADER_REQUEST_ID, HEADER_ROUTING_VERSION } from '@kvstore/protocol';
import type { Logger } from '../replication/types';
import type { KvCall, KvService } from './kv-service';

const EMPTY: Buffer = Buffer.alloc(0);

/** The data path's request log: slow requests, and failures a gate's 5xx line needs the replica's side of. */
export class KvRequestLog {
  private readonly slow: SlowRequestLog;

  constructor(
    private readonly logger: Logger,
    slowRequestMs: number | undefined,
  ) {
    this.slow = new SlowRequestLog(logger, slowRequestMs ?? Infinity);
  }

  start(): number {
    return performance.now();
  }

  /**
   * A 500 was logged with its stack where it was thrown, and a 503 is a
   * refusal before the log that the gate retries elsewhere: both are worth
   * a line only at debug. Any other 5xx (a write timed out, outcome unknown)
   * is what an operator looks up by the request id.
   */
  finished(started: number, call: KvCall, answer: Answer): void {
    const summary = () => ({ method: call.method, url: call.url, status: answer.status, partition: answer.headers[HEADER_PARTITION] });
    this.slow.finished(performance.now() - started, call.requestId, summary);
    if (answer.status < 500) return;
    const line = { requestId: call.requestId, ...summary(), body: answer.body.toString('utf8', 0, 500) };
    if (answer.status === 500 || answer.status === 503) this.logger.debug(line, 'request failed');
    else this.logger.warn(line, 'request failed');
  }
}

/** `/v1/kv` over plain node:http: read the body (bounded), serve, answer with the request's id. */
export async function serveKvHttp(kv: KvService, log: KvRequestLog, request: IncomingMessage, response: ServerResponse, maxValueBytes: number): Promise<void> {
  const started = log.start();
  const requestId = requestIdFor(request.headers[HEADER_REQUEST_ID]);
  response.setHeader(HEADER_REQUEST_ID, requestId);
  const method = request.method ?? 'GET';
  let body = EMPTY;
  if (method === 'PUT') {
    try {
      body = await readBody(request, maxValueBytes);
    } catch (error) {
      sendAnswer(response, kv.refusal(error, requestId));
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
    requestId,
  };
  const answer = await kv.serve(call);
  sendAnswer(response, answer);
  log.finished(started, call, answer);
}

/** `/v1/kv` over the internal protocol: how a gate forwards requests, with the id it gave the request as a header. */
export function kvMuxHandler(kv: KvService, log: KvRequestLog): MuxHandlers {
  return {
    [FrameKind.kv]: async (payload: Buffer) => {
      const started = log.start();
      const request = decodeKvRequest(payload);
      const call = {
        method: request.method,
        url: request.path,
        ifMatch: request.headers['if-match'],
        ifNoneMatch: request.headers['if-none-match'],
        routingVersion: request.headers[HEADER_ROUTING_VERSION],
        body: request.body,
        requestId: requestIdFor(request.headers[HEADER_REQUEST_ID]),
      };
      const answer = await kv.serve(call);
      log.finished(started, call, answer);
      return encodeKvAnswer(answer);
    },
  };
}
