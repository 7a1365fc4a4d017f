import type { IncomingMessage, ServerResponse } from 'node:http';
import { header, readBody, refusalAnswer, sendAnswer, type Answer } from '@kvstore/cluster';
import {
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
import type { ForwardRequest, Forwarder } from '../proxy/forwarder';
import type { GateMetrics } from '../metrics/gate-metrics';
import { forwardedAnswer } from './respond';

export interface KvRouteDeps {
  forwarder: Pick<Forwarder, 'forward'>;
  maxValueBytes: number;
  logger?: Logger;
  metrics?: GateMetrics;
}

function conditionalHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['if-match', 'if-none-match']) {
    const value = header(request, name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/** Strong is the replica's default: saying so would make it parse a query string on every read. */
function consistencyQuery(consistency: Consistency): string {
  return consistency === 'eventual' ? 'consistency=eventual' : '';
}

/** Validated here, so a replica never sees input the gate would refuse; throws KvError for bad input. */
async function parseKvRequest(request: IncomingMessage, maxValueBytes: number): Promise<ForwardRequest> {
  const method = request.method;
  if (method !== 'GET' && method !== 'PUT' && method !== 'DELETE') {
    throw notFound(`no route for ${method} ${KV_PREFIX}/<key>; use GET, PUT or DELETE`);
  }
  const { encodedKey, query } = splitKvUrl(request.url ?? '');
  const key = decodeKey(encodedKey);
  const ttl = parseTtl(queryParam(query, 'ttl'));
  const consistency = parseConsistency(queryParam(query, 'consistency'));
  if (method === 'GET') return { method, key, query: consistencyQuery(consistency), headers: {}, consistency };
  if (method === 'DELETE') return { method, key, query: '', headers: conditionalHeaders(request), consistency };
  // Values are opaque bytes whatever Content-Type says; the limit is inclusive.
  const body = await readBody(request, maxValueBytes);
  const headers = { ...conditionalHeaders(request), 'content-type': 'application/octet-stream' };
  return { method, key, query: ttl === undefined ? '' : `ttl=${ttl}`, headers, body, consistency };
}

/** `PUT|GET|DELETE /v1/kv/<key>` on plain node:http: the gate's data path. */
export async function serveKvHttp(deps: KvRouteDeps, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const started = deps.metrics?.arrived() ?? 0;
  let answer: Answer;
  let partition: string | undefined;
  try {
    const result = await deps.forwarder.forward(await parseKvRequest(request, deps.maxValueBytes));
    partition = result.partition;
    answer = forwardedAnswer(result);
  } catch (error) {
    answer = refusalAnswer(error, {}, (unexpected) => deps.logger?.error({ err: unexpected }, 'unexpected error'));
  }
  if (answer.status >= 500) deps.logger?.warn({ status: answer.status, url: request.url, body: answer.body.toString('utf8', 0, 500) }, 'request failed');
  sendAnswer(response, answer);
  deps.metrics?.answered(started, 'kv', request.method, answer.status, partition);
}


/** The seed's API, kept working on express: a JSON put with a base64 value, and a get by query parameter. */
export function seedRouter(deps: KvRouteDeps): Router {
  const router = express.Router();
  const raw = express.raw({ limit: seedBodyLimit(deps.maxValueBytes), type: () => true });
  router.post('/api/cache/put', raw, async (req, res) => {
    const { key, value } = parseSeedPut(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), deps.maxValueBytes);
    const request: ForwardRequest = {
      method: 'PUT',
      key,
      query: '',
      headers: { 'content-type': 'application/octet-stream' },
      body: value,
      consistency: 'strong',
    };
    sendAnswer(res, forwardedAnswer(await deps.forwarder.forward(request)));
  });
  router.get('/api/cache/get', async (req, res) => {
    const consistency = parseConsistency(req.query.consistency);
    const request: ForwardRequest = { method: 'GET', key: parseSeedGetKey(req.query.key), query: consistencyQuery(consistency), headers: {}, consistency };
    sendAnswer(res, forwardedAnswer(await deps.forwarder.forward(request)));
  });
  return router;
}
