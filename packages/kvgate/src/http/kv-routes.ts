import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SlowRequestLog, header, readBody, refusalAnswer, requestIdFor, sendAnswer, type Answer } from '@kvstore/cluster';
import {
  HEADER_REPLICA,
  HEADER_REQUEST_ID,
  KV_PREFIX,
  decodeKey,
  notFound,
  parseConsistency,
  parseSeedGetKey,
  parseSeedPut,
  parseTtl,
  queryParam,
  seedBodyLimit,
  splitKvUrl,
  type Consistency,
} from '@kvstore/protocol';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { challengeHeaders, requireKeyAccess, type RequestAuthenticator } from '../auth/access-guard';
import { requireAccess } from '@kvstore/cluster';
import type { ForwardRequest, Forwarder } from '../proxy/forwarder';
import type { GateMetrics } from '../metrics/gate-metrics';
import { clientOf, retryAfterHeaders, type RequestLimits } from '../limits/request-limits';
import { forwardedAnswer } from './respond';
import { requestIdOf } from './request-id';

export interface KvRouteDeps {
  forwarder: Pick<Forwarder, 'forward'>;
  maxValueBytes: number;
  logger?: Logger;
  /** Counts and times every answered request (the web view's traffic sampler reads the histogram). */
  metrics?: GateMetrics;
  /** `--auth on`: a token with a grant for the key. */
  auth?: RequestAuthenticator;
  /** `--rate-limit`, `--max-in-flight-per-client`: without it, no per-client limits. */
  limits?: RequestLimits;
}

/** The replica logs the request under the gate's id for it: the id travels as a header of the kv frame. */
function conditionalHeaders(request: IncomingMessage, requestId: string): Record<string, string> {
  const headers: Record<string, string> = { [HEADER_REQUEST_ID]: requestId };
  for (const name of ['if-match', 'if-none-match']) {
    const value = header(request, name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/** Strong is the replica's default: saying so would make it parse a query string on every read. */
export function consistencyQuery(consistency: Consistency): string {
  return consistency === 'eventual' ? 'consistency=eventual' : '';
}

/** Validated here, so a replica never sees input the gate would refuse; throws KvError for bad input. */
async function parseKvRequest(request: IncomingMessage, maxValueBytes: number, requestId: string): Promise<ForwardRequest> {
  const method = request.method;
  if (method !== 'GET' && method !== 'PUT' && method !== 'DELETE') {
    throw notFound(`no route for ${method} ${KV_PREFIX}/<key>; use GET, PUT or DELETE`);
  }
  const { encodedKey, query } = splitKvUrl(request.url ?? '');
  const key = decodeKey(encodedKey);
  const ttl = parseTtl(queryParam(query, 'ttl'));
  const consistency = parseConsistency(queryParam(query, 'consistency'));
  if (method === 'GET') return { method, key, query: consistencyQuery(consistency), headers: { [HEADER_REQUEST_ID]: requestId }, consistency };
  if (method === 'DELETE') return { method, key, query: '', headers: conditionalHeaders(request, requestId), consistency };
  // Values are opaque bytes whatever Content-Type says; the limit is inclusive.
  const body = await readBody(request, maxValueBytes);
  const headers = { ...conditionalHeaders(request, requestId), 'content-type': 'application/octet-stream' };
  return { method, key, query: ttl === undefined ? '' : `ttl=${ttl}`, headers, body, consistency };
}

/**
 * `PUT|GET|DELETE /v1/kv/<key>` on plain node:http: the gate's data path.
 * It logs no access line (`slow` logs the slow requests) and a 5xx.
 */
export async function serveKvHttp(deps: KvRouteDeps, slow: SlowRequestLog, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const started = performance.now();
  deps.metrics?.arrived();
  const requestId = requestIdFor(request.headers[HEADER_REQUEST_ID]);
  let answer: Answer;
  let partition: string | undefined;
  let admitted: string | undefined;
  try {
    // Authenticated and admitted before anything is read, authorised once the key is known.
    const principal = deps.auth ? await deps.auth.authenticate(header(request, 'authorization'), request.socket.remoteAddress) : undefined;
    if (deps.limits) {
      const client = clientOf(request, principal);
      deps.limits.admit(client);
      admitted = client;
    }
    const forward = await parseKvRequest(request, deps.maxValueBytes, requestId);
    if (principal) requireAccess(principal, { kind: 'key', key: forward.key, write: forward.method !== 'GET' });
    const result = await deps.forwarder.forward(forward);
    partition = result.partition;
    answer = forwardedAnswer(result, requestId);
  } catch (error) {
    const onUnexpected = (unexpected: unknown): void => deps.logger?.error({ err: unexpected, requestId }, 'unexpected error');
    answer = refusalAnswer(error, { ...challengeHeaders(error), ...retryAfterHeaders(error), [HEADER_REQUEST_ID]: requestId }, onUnexpected);
  }
  if (answer.status >= 500) deps.logger?.warn({ requestId, status: answer.status, url: request.url, body: answer.body.toString('utf8', 0, 500) }, 'request failed');
  sendAnswer(response, answer);
  if (admitted !== undefined) deps.limits?.release(admitted);
  const durationMs = performance.now() - started;
  slow.finished(durationMs, requestId, () => ({
    method: request.method ?? '',
    url: request.url ?? '',
    status: answer.status,
    partition,
    replica: answer.headers[HEADER_REPLICA],
  }));
  deps.metrics?.answered(durationMs, 'kv', request.method, answer.status, partition);
}

/** The seed's API, kept working on express: a JSON put with a base64 value, and a get by query parameter. */
export function seedRouter(deps: KvRouteDeps): Router {
  const router = express.Router();
  const raw = express.raw({ limit: seedBodyLimit(deps.maxValueBytes), type: () => true });
  router.post('/api/cache/put', raw, async (req, res) => {
    const { key, value } = parseSeedPut(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), deps.maxValueBytes);
    requireKeyAccess(res, key, true);
    const request: ForwardRequest = {
      method: 'PUT',
      key,
      query: '',
      headers: { 'content-type': 'application/octet-stream', [HEADER_REQUEST_ID]: requestIdOf(req) },
      body: value,
      consistency: 'strong',
    };
    sendAnswer(res, forwardedAnswer(await deps.forwarder.forward(request), requestIdOf(req)));
  });
  router.get('/api/cache/get', async (req, res) => {
    const consistency = parseConsistency(req.query.consistency);
    const headers = { [HEADER_REQUEST_ID]: requestIdOf(req) };
    const request: ForwardRequest = { method: 'GET', key: parseSeedGetKey(req.query.key), query: consistencyQuery(consistency), headers, consistency };
    requireKeyAccess(res, request.key, false);
    sendAnswer(res, forwardedAnswer(await deps.forwarder.forward(request), requestIdOf(req)));
  });
  return router;
}
