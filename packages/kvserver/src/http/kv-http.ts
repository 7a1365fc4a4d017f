import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  SlowRequestLog,
  decodeKvRequest,
  encodeKvAnswer,
  header,
  readBody,
  requestIdFor,
  requireAccess,
  sendAnswer,
} from '@kvstore/cluster';
import { HEADER_REQUEST_ID, HEADER_ROUTING_VERSION, KV_PREFIX, parseKvRequest, parseRoutingVersion } from '@kvstore/protocol';
import {
  CLIENT_MUX_PATH,
  FrameKind,
  MUX_FRAME_HEADROOM,
  decodeKvFrameRequest,
  encodeKvFrameAnswer,
  kvFrameRequest,
  type KvFrameAnswer,
  type KvFrameRequest,
  type MuxDoor,
  type MuxHandlers,
} from '@kvstore/wire';
import type { Logger } from '../replication/types';
import type { KvService } from './kv-service';
import type { PublicAuth } from './public-auth';

const EMPTY: Buffer = Buffer.alloc(0);

/** What the request log says of a request: its parsed fields, or for one refused before it was parsed, the method and url. */
interface LoggedRequest {
  method: string;
  /** The key, or the url of a request that was refused before its key was known. */
  target: string;
  requestId: string;
}

/** The data path's request log: slow requests, and failures a gate's 5xx line needs the replica's side of. */
export class KvRequestLog {
  private readonly slow: SlowRequestLog;

  constructor(
    private readonly logger: Logger,
    private readonly partition: string,
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
  finished(started: number, request: LoggedRequest, answer: KvFrameAnswer): void {
    const status = answer.ok ? 200 : answer.error.status;
    const summary = () => ({ method: request.method, url: request.target, status, partition: this.partition });
    this.slow.finished(performance.now() - started, request.requestId, summary);
    if (answer.ok || status < 500) return;
    const line = { requestId: request.requestId, ...summary(), code: answer.error.code, message: answer.error.message };
    if (status === 500 || status === 503) this.logger.debug(line, 'request failed');
    else this.logger.warn(line, 'request failed');
  }
}

function loggedRequest(request: KvFrameRequest): LoggedRequest {
  return { method: request.method, target: `${KV_PREFIX}/${request.key}`, requestId: request.requestId };
}

/** `/v1/kv` over plain node:http: parse (the protocol's one parser), read the body (bounded), serve, answer with the request's id. */
export async function serveKvHttp(kv: KvService, log: KvRequestLog, request: IncomingMessage, response: ServerResponse, maxValueBytes: number): Promise<void> {
  const started = log.start();
  const requestId = requestIdFor(request.headers[HEADER_REQUEST_ID]);
  response.setHeader(HEADER_REQUEST_ID, requestId);
  let parsed: KvFrameRequest;
  try {
    const fields = parseKvRequest(request.method, request.url ?? '/', header(request, 'if-match'), header(request, 'if-none-match'));
    const routingVersion = parseRoutingVersion(header(request, HEADER_ROUTING_VERSION));
    const body = fields.method === 'PUT' ? await readBody(request, maxValueBytes) : EMPTY;
    parsed = kvFrameRequest(fields, requestId, routingVersion, body);
  } catch (error) {
    const refusal = kv.refused(error, requestId);
    sendAnswer(response, kv.httpAnswer(refusal, requestId));
    log.finished(started, { method: request.method ?? '', target: request.url ?? '', requestId }, refusal);
    return;
  }
  const answer = await kv.serve(parsed);
  sendAnswer(response, kv.httpAnswer(answer, requestId));
  log.finished(started, loggedRequest(parsed), answer);
}

/** A typed kv frame's request, served and logged; its answer's payload. */
async function serveKvFrame(kv: KvService, log: KvRequestLog, request: KvFrameRequest): Promise<Buffer[]> {
  const started = log.start();
  const answer = await kv.serve(request);
  log.finished(started, loggedRequest(request), answer);
  return encodeKvFrameAnswer(answer);
}

/**
 * A client's connection to `/v1/mux` (a self-routing kvclient): typed kv
 * frames only. With `--auth on` (users) the upgrade wants a valid token,
 * and each request is checked against that token's grants as it comes, so a
 * token revoked or a grant taken away stops the next request, not the next
 * connection. A refusal is the request's answer (401, 403), as over HTTP.
 */
export function clientMuxDoor(kv: KvService, log: KvRequestLog, users: PublicAuth | undefined, maxValueBytes: number): Record<string, MuxDoor> {
  const serve = (request: KvFrameRequest) => serveKvFrame(kv, log, request);
  const maxFrameBytes = maxValueBytes + MUX_FRAME_HEADROOM;
  const open = { handlers: { [FrameKind.typedKv]: (payload: Buffer) => serve(decodeKvFrameRequest(payload)) }, maxFrameBytes };
  const door: MuxDoor = {
    async admit(request) {
      if (!users) return open;
      const { authorization } = request.headers;
      await users.authenticate(authorization);
      const handlers: MuxHandlers = {
        [FrameKind.typedKv]: async (payload: Buffer) => {
          const kvRequest = decodeKvFrameRequest(payload);
          try {
            requireAccess(await users.authenticate(authorization), { kind: 'key', key: kvRequest.key, write: kvRequest.method !== 'GET' });
          } catch (error) {
            return encodeKvFrameAnswer(kv.refused(error, kvRequest.requestId));
          }
          return serve(kvRequest);
        },
      };
      return { handlers, maxFrameBytes };
    },
  };
  return { [CLIENT_MUX_PATH]: door };
}

/**
 * `/v1/kv` over the internal protocol: a gate's typed kv frames, and the
 * url-and-headers frames of gates that predate them (until the next
 * release). A typed frame that breaks the layout is answered `failed`.
 */
export function kvMuxHandler(kv: KvService, log: KvRequestLog): MuxHandlers {
  return {
    [FrameKind.typedKv]: (payload: Buffer) => serveKvFrame(kv, log, decodeKvFrameRequest(payload)),
    [FrameKind.kv]: async (payload: Buffer) => {
      const started = log.start();
      const { method, path, headers, body, routingVersion } = decodeKvRequest(payload);
      const requestId = requestIdFor(headers[HEADER_REQUEST_ID]);
      let answer: KvFrameAnswer;
      let logged: LoggedRequest;
      try {
        const request = kvFrameRequest(parseKvRequest(method, path, headers['if-match'], headers['if-none-match']), requestId, routingVersion, body);
        logged = loggedRequest(request);
        answer = await kv.serve(request);
      } catch (error) {
        logged = { method, target: path, requestId };
        answer = kv.refused(error, requestId);
      }
      log.finished(started, logged, answer);
      return encodeKvAnswer(kv.httpAnswer(answer, requestId));
    },
  };
}
