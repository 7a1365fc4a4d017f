import {
  decodeKey,
  notFound,
  parseConsistency,
  parseSeedGetKey,
  parseSeedPut,
  parseTtl,
  seedBodyLimit,
} from '@kvstore/topology';
import express, { type Request, type RequestHandler, type Router } from 'express';
import type { ForwardRequest, Forwarder } from '../proxy/forwarder';
import { sendForwarded } from './respond';

export const KV_PREFIX = '/v1/kv';

function conditionalHeaders(req: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['if-match', 'if-none-match']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

/** `PUT|GET|DELETE /v1/kv/<key>`: validated here, so a replica never sees input the gate would refuse. */
function kvHandler(forwarder: Pick<Forwarder, 'forward'>): RequestHandler {
  return async (req, res) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'PUT' && method !== 'DELETE') {
      throw notFound(`no route for ${method} ${KV_PREFIX}/<key>; use GET, PUT or DELETE`);
    }
    const key = decodeKey(req.path.slice(KV_PREFIX.length + 1));
    const ttl = parseTtl(req.query.ttl);
    const consistency = parseConsistency(req.query.consistency);
    const forwarded: ForwardRequest = { method, key, query: '', headers: {}, consistency };
    if (method === 'PUT') {
      forwarded.body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      forwarded.headers = { ...conditionalHeaders(req), 'content-type': 'application/octet-stream' };
      if (ttl !== undefined) forwarded.query = `ttl=${ttl}`;
    } else if (method === 'DELETE') {
      forwarded.headers = conditionalHeaders(req);
    } else {
      forwarded.query = `consistency=${consistency}`;
    }
    sendForwarded(res, await forwarder.forward(forwarded));
  };
}

/** The seed's API, kept working: a JSON put with a base64 value, and a get by query parameter. */
function seedRoutes(router: Router, forwarder: Pick<Forwarder, 'forward'>, maxValueBytes: number): void {
  const raw = express.raw({ limit: seedBodyLimit(maxValueBytes), type: () => true });
  router.post('/api/cache/put', raw, async (req, res) => {
    const { key, value } = parseSeedPut(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), maxValueBytes);
    const request: ForwardRequest = {
      method: 'PUT',
      key,
      query: '',
      headers: { 'content-type': 'application/octet-stream' },
      body: value,
      consistency: 'strong',
    };
    sendForwarded(res, await forwarder.forward(request));
  });
  router.get('/api/cache/get', async (req, res) => {
    const request: ForwardRequest = {
      method: 'GET',
      key: parseSeedGetKey(req.query.key),
      query: '',
      headers: {},
      consistency: parseConsistency(req.query.consistency),
    };
    request.query = `consistency=${request.consistency}`;
    sendForwarded(res, await forwarder.forward(request));
  });
}

export function kvRouter(forwarder: Pick<Forwarder, 'forward'>, maxValueBytes: number): Router {
  const router = express.Router();
  // Values are opaque bytes whatever Content-Type says; the limit is inclusive (raw-body refuses only above it).
  const raw = express.raw({ limit: maxValueBytes, type: () => true });
  const handler = kvHandler(forwarder);
  router.put(new RegExp(`^${KV_PREFIX}(?:/.*)?$`), raw, handler);
  router.all(new RegExp(`^${KV_PREFIX}(?:/.*)?$`), handler);
  seedRoutes(router, forwarder, maxValueBytes);
  return router;
}
