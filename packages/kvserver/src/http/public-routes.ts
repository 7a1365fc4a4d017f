import express, { type Request, type Response, type Router } from 'express';
import {
  HEADER_PARTITION,
  HEADER_REPLICA,
  KvError,
  decodeKey,
  notFound,
  parseConsistency,
  parseIfMatch,
  parseIfNoneMatch,
  parseSeedGetKey,
  parseSeedPut,
  parseTtl,
  seedBodyLimit,
} from '@kvstore/topology';
import type { Replica } from '../replication/replica';

export interface PublicRouteDeps {
  replica: Replica;
  partition: string;
  maxValueBytes: number;
  /** Whether the current ring puts `key` on this partition. */
  owns(key: string): boolean;
}

/** The public API for this replica's partition (DESIGN.md): the same answers the gate gives. */
export function publicRoutes(deps: PublicRouteDeps): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: deps.maxValueBytes });

  router.use((_request, response, next) => {
    response.set(HEADER_PARTITION, deps.partition).set(HEADER_REPLICA, deps.replica.id);
    next();
  });

  router.use('/v1/kv', raw, async (request, response) => {
    const key = decodeKey(request.path.slice(1));
    switch (request.method) {
      case 'PUT':
        return put(deps, request, response, key, bodyOf(request));
      case 'GET':
        return get(deps, response, key, parseConsistency(request.query.consistency));
      case 'DELETE':
        return del(deps, request, response, key);
      default:
        throw new KvError('NOT_FOUND', `no route for ${request.method} /v1/kv/<key>; use GET, PUT or DELETE`);
    }
  });

  router.post('/api/cache/put', express.raw({ type: () => true, limit: seedBodyLimit(deps.maxValueBytes) }), async (request, response) => {
    const { key, value } = parseSeedPut(bodyOf(request), deps.maxValueBytes);
    return put(deps, request, response, key, value);
  });

  router.get('/api/cache/get', async (request, response) => {
    return get(deps, response, parseSeedGetKey(request.query.key), 'strong');
  });

  return router;
}

function bodyOf(request: Request): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/** Checked after the request is parsed, so bad input is a 400 wherever it is sent. */
function ownedKey(deps: PublicRouteDeps, key: string): string {
  if (!deps.owns(key)) throw new KvError('WRONG_PARTITION', `key does not belong to partition ${deps.partition} on the current ring`);
  return key;
}

async function put(deps: PublicRouteDeps, request: Request, response: Response, key: string, value: Buffer): Promise<void> {
  const ttlSeconds = parseTtl(request.query.ttl);
  const precondition = { ifMatch: parseIfMatch(request.get('if-match')), ifNoneMatch: parseIfNoneMatch(request.get('if-none-match')) };
  const { version } = await deps.replica.put(ownedKey(deps, key), value, ttlSeconds, precondition);
  response.set('ETag', `"${version}"`).json({ key, version });
}

async function get(deps: PublicRouteDeps, response: Response, key: string, consistency: 'strong' | 'eventual'): Promise<void> {
  const stored = await deps.replica.read(ownedKey(deps, key), consistency);
  if (!stored) throw notFound();
  response.set('ETag', `"${stored.version}"`).type('application/octet-stream').send(stored.value);
}

async function del(deps: PublicRouteDeps, request: Request, response: Response, key: string): Promise<void> {
  const ifMatch = parseIfMatch(request.get('if-match'));
  const { version, deleted } = await deps.replica.delete(ownedKey(deps, key), { ifMatch });
  response.json({ key, deleted: deleted ?? false, version });
}
