import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger, LevelWithSilent } from 'pino';
import { pinoHttp } from 'pino-http';

/** Polled every few seconds by orchestrators, failing for as long as the gate is not ready (the watcher logs why once): a line each would bury the others. */
const PROBES = new Set(['/healthz', '/readyz']);

function level(req: IncomingMessage, res: ServerResponse, error?: Error): LevelWithSilent {
  if (PROBES.has((req.url ?? '').split('?')[0]!)) return 'debug';
  return error !== undefined || res.statusCode >= 500 ? 'warn' : 'info';
}

/** What the line says of the exchange; `requestId` is bound to the line by pino-http. */
function exchange(req: IncomingMessage, res: ServerResponse, durationMs: unknown): object {
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
  return { method: req.method, url: url.length > 300 ? `${url.slice(0, 300)}...` : url, status: res.statusCode, durationMs };
}

/**
 * One line per request on the gate's express side (probes, cluster view,
 * admin, seed API) when it is answered: `request` at info (a 5xx at
 * warn, probes at debug whatever their answer) with requestId, method, url, status and durationMs.
 * The data path (`/v1/kv`) is not served here: it logs slow requests only.
 */
export function accessLog(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    customLogLevel: level,
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request',
    customSuccessObject: (req, res, value: { responseTime: unknown }) => exchange(req, res, value.responseTime),
    // The error handler logs what failed (and an unexpected error's stack) under the same requestId.
    customErrorObject: (req, res, _error, value: { responseTime: unknown }) => exchange(req, res, value.responseTime),
  });
}
