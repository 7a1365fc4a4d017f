import type { ErrorRequestHandler, RequestHandler } from 'express';
import { challengeHeaders, refusalAnswer, sendAnswer } from '@kvstore/cluster';
import { HEADER_REQUEST_ID, KvError, badRequest, payloadTooLarge } from '@kvstore/protocol';
import type { Logger } from '../replication/types';
import { requestIdOf } from './request-id';

/** Errors of express's body parsers, converted to the API's codes. */
function fromBodyParser(error: { type?: string; limit?: number; message: string }): KvError | undefined {
  if (error.type === 'entity.too.large') return payloadTooLarge(`body is larger than the limit of ${error.limit} bytes`);
  if (error.type === 'entity.parse.failed') return badRequest('body is not valid JSON');
  if (typeof error.type === 'string') return badRequest(error.message);
  return undefined;
}

/** The one place where an error becomes an HTTP answer: `{"error":{"code","message","requestId"}}`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, _request, response, next) => {
    if (response.headersSent) return next(error);
    const known = error instanceof KvError ? error : fromBodyParser(error as { type?: string; limit?: number; message: string });
    const requestId = requestIdOf(response);
    const headers = { ...challengeHeaders(known), [HEADER_REQUEST_ID]: requestId };
    sendAnswer(response, refusalAnswer(known ?? error, headers, (unexpected) => logger.error({ err: unexpected, requestId }, 'unexpected error')));
  };
}

export const unknownRoute: RequestHandler = (request, _response, next) => {
  next(new KvError('NOT_FOUND', `no route for ${request.method} ${request.path}`));
};
