import express, { type Router } from 'express';
import { sendAnswer } from '@kvstore/cluster';
import { parseSeedGetKey, parseSeedPut, seedBodyLimit } from '@kvstore/protocol';
import type { KvService } from './kv-service';
import { requestIdOf } from './request-id';

/** The seed's API, kept working on express: a JSON put with a base64 value, and a get by query parameter. */
export function seedRoutes(kv: KvService, maxValueBytes: number): Router {
  const router = express.Router();
  router.post('/api/cache/put', express.raw({ type: () => true, limit: seedBodyLimit(maxValueBytes) }), async (request, response) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    sendAnswer(
      response,
      await kv.answer(() => {
        const { key, value } = parseSeedPut(body, maxValueBytes);
        return kv.put(key, value, undefined);
      }, requestIdOf(response)),
    );
  });
  router.get('/api/cache/get', async (request, response) => {
    sendAnswer(
      response,
      await kv.answer(() => kv.get(parseSeedGetKey(request.query.key), 'strong'), requestIdOf(response)),
    );
  });
  return router;
}
