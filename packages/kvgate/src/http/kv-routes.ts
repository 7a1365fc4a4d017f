import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SlowRequestLog, header, readBody, refusalAnswer, requestIdFor, sendAnswer, type Answer } from '@kvstore/cluster';
import { HEADER_REPLICA, HEADER_REQUEST_ID, parseConsistency, parseKvRequest, parseSeedGetKey, parseSeedPut, seedBodyLimit } from '@kvstore/protocol';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { challengeHeaders, requireKeyAccess, type RequestAuthenticator } from '../auth/access-guard';
import { requireAccess } from '@kvstore/cluster';
import { kvFrameRequest } from '@kvstore/wire';
import type { ForwardRequest, Forwarder } from '../proxy/forwarder';
import type { GateMetrics } from '../metrics/gate-metrics';
import { clientOf, retryAfterHeaders, type RequestLimits } from '../limits/request-limits';
import { forwardedAnswer } from './respond';
import { requestIdOf } from './request-id';

const EMPTY: Buffer = Buffer.alloc(0);

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

/** Validated here with the protocol's parser, so a replica never sees input the gate would refuse; throws KvError for bad input. */
async function parseKvHttp(request: IncomingMessage, maxValueBytes: number, requestId: string): Promise<ForwardRequest> {
  const fields = parseKvRequest(request.method, request.url ?? '', header(request, 'if-match'), header(request, 'if-none-match'));
  // Values are opaque bytes whatever Content-Type says; the limit is inclusive.
  const body = fields.method === 'PUT' ? await readBody(request, maxValueBytes) : EMPTY;
  return kvFrameRequest(fields, requestId, undefined, body);
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
    const forward = await parseKvHttp(request, deps.maxValueBytes, requestId);
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

/** What the seed's API does not say. */
const SEED_REQUEST = { ttl: undefined, consistency: 'strong', ifMatch: undefined, ifNoneMatch: false } as const;

/** The seed's API, kept working on express: a JSON put with a base64 value, and a get by query parameter. */
export function seedRouter(deps: KvRouteDeps): Router {
  const router = express.Router();
  const raw = express.raw({ limit: seedBodyLimit(deps.maxValueBytes), type: () => true });
  router.post('/api/cache/put', raw, async (req, res) => {
    const { key, value } = parseSeedPut(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), deps.maxValueBytes);
    requireKeyAccess(res, key, true);
    const request: ForwardRequest = { ...SEED_REQUEST, method: 'PUT', key, requestId: requestIdOf(req), body: value };
    sendAnswer(res, forwardedAnswer(await deps.forwarder.forward(request), requestIdOf(req)));
  });
  router.get('/api/cache/get', async (req, res) => {
    const consistency = parseConsistency(req.query.consistency);
    const request: ForwardRequest = { ...SEED_REQUEST, method: 'GET', key: parseSeedGetKey(req.query.key), consistency, requestId: requestIdOf(req), body: EMPTY };
    requireKeyAccess(res, request.key, false);
    sendAnswer(res, forwardedAnswer(await deps.forwarder.forward(request), requestIdOf(req)));
  });
  return router;
}
