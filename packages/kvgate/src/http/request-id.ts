import assert from 'node:assert/strict';
import { requestIdFor } from '@kvstore/cluster';
import { HEADER_REQUEST_ID } from '@kvstore/protocol';
import type { Request, RequestHandler } from 'express';

/** Names every request on the express side before anything logs it (pino-http keeps a `req.id` it finds) and echoes the name. */
export const nameRequests: RequestHandler = (req, res, next) => {
  req.id = requestIdFor(req.headers[HEADER_REQUEST_ID]);
  res.setHeader(HEADER_REQUEST_ID, req.id);
  next();
};

/** The id nameRequests gave the request. */
export function requestIdOf(req: Request): string {
  assert(typeof req.id === 'string', 'nameRequests runs before every route');
  return req.id;
}
