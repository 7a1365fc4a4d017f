import { Agent, errors as undiciErrors } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header';
import { TransportError, type DataTransport, type TransportRequest, type TransportResponse } from './transport';

/** Socket errors that happen before a single byte of the request left this process. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

function classify(error: unknown, request: TransportRequest): TransportError {
  const code = (error as { code?: unknown }).code;
  const target = `${request.method} ${request.url}${request.path}`;
  if (error instanceof undiciErrors.ConnectTimeoutError || (typeof code === 'string' && NEVER_SENT.has(code))) {
    return new TransportError('refused', `${target}: could not connect (${String(code)})`, { cause: error });
  }
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new TransportError('unknown-outcome', `${target}: no answer (${reason})`, { cause: error });
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

export interface HttpTransportOptions {
  /** Bound on establishing a connection; a connect timeout is a safe `refused`. */
  connectTimeoutMs?: number;
  /** Bound on open connections per replica. */
  connectionsPerOrigin?: number;
}

/**
 * HTTP/1.1 over undici: one Agent, which keeps a keep-alive pool per
 * replica origin, so consecutive requests to a leader reuse connections.
 */
export class HttpTransport implements DataTransport {
  private readonly agent: Agent;

  constructor(options: HttpTransportOptions = {}) {
    this.agent = new Agent({
      connect: { timeout: options.connectTimeoutMs ?? 1000 },
      connections: options.connectionsPerOrigin ?? 64,
      keepAliveTimeout: 4000,
    });
  }

  async request(request: TransportRequest): Promise<TransportResponse> {
    try {
      const answer = await this.agent.request({
        origin: request.url,
        path: request.path,
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(request.timeoutMs),
      });
      const body = Buffer.from(await answer.body.arrayBuffer());
      return { status: answer.statusCode, headers: flatten(answer.headers), body };
    } catch (error) {
      throw classify(error, request);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
