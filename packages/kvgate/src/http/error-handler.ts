import { refusalAnswer, sendAnswer } from '@kvstore/cluster';
import { HEADER_REQUEST_ID, KvError, badRequest, payloadTooLarge } from '@kvstore/protocol';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { requestIdOf } from './request-id';
import { challengeHeaders } from '../auth/access-guard';
import { retryAfterHeaders } from '../limits/request-limits';

/** Errors from body-parser and express carry an HTTP status and a `type`; nothing else here is trusted. */
function toKvError(error: unknown, maxValueBytes: number): KvError | undefined {
  if (error instanceof KvError) return error;
  const { status, type } = (error ?? {}) as { status?: unknown; type?: unknown };
  if (type === 'entity.too.large') return payloadTooLarge(`body is larger than the limit of ${maxValueBytes} bytes`);
  if (type === 'entity.parse.failed') return badRequest('body is not valid JSON');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return badRequest(error instanceof Error ? error.message : 'bad request');
  }
  return undefined;
}

/** The one place an error becomes an answer: `{"error":{"code","message","requestId"}}` with the status of its code. */
export function errorHandler(maxValueBytes: number, logger?: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const requestId = requestIdOf(req);
    const kvError = toKvError(error, maxValueBytes);
    if (kvError && kvError.status >= 500 && req.path !== '/readyz') {
      // A failing readiness probe is polled; the watcher already logs why it is not ready.
      logger?.warn({ requestId, code: kvError.code, message: kvError.message, url: req.originalUrl }, 'request failed');
    }
    const onUnexpected = (unexpected: unknown): void => logger?.error({ err: unexpected, requestId, method: req.method, url: req.originalUrl }, 'unexpected error');
    sendAnswer(res, refusalAnswer(kvError ?? error, { ...challengeHeaders(kvError), ...retryAfterHeaders(kvError), [HEADER_REQUEST_ID]: requestId }, onUnexpected));
  };
}
