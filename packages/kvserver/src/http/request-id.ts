import { requestIdFor } from '@kvstore/cluster';
import { HEADER_REQUEST_ID } from '@kvstore/protocol';
import type { RequestHandler, Response } from 'express';

/** Names every request on the express side (a gate's snapshot calls carry the id of the client's request) and echoes the name. */
export const nameRequests: RequestHandler = (request, response, next) => {
  const requestId = requestIdFor(request.headers[HEADER_REQUEST_ID]);
  response.locals.requestId = requestId;
  response.setHeader(HEADER_REQUEST_ID, requestId);
  next();
};

/** The id nameRequests gave the request being answered. */
export function requestIdOf(response: Response): string {
  return response.locals.requestId as string;
}
