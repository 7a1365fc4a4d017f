import type { Answer } from '@kvstore/cluster';
import { answerFromHttp } from './legacy-kv';
import { TransportError, type DataTransport, type TransportRequest, type TransportResponse } from './transport';

/** Answers as a replica's HTTP would (status, headers, body), read as a replica that predates the typed kv frame is. */
export type MemoryHandler = (request: TransportRequest) => Answer | Promise<Answer>;

/**
 * The in-memory twin of MuxTransport for tests: each replica url maps to a
 * handler; a url without a handler refuses the connection, and a handler
 * may throw a TransportError to play a lost answer. Every request is logged.
 */
export class MemoryTransport implements DataTransport {
  readonly requests: TransportRequest[] = [];
  private readonly handlers = new Map<string, MemoryHandler>();

  serve(url: string, handler: MemoryHandler): this {
    this.handlers.set(url, handler);
    return this;
  }

  /** Takes the replica at `url` down: later requests to it are refused. */
  stop(url: string): void {
    this.handlers.delete(url);
  }

  requestsTo(url: string): TransportRequest[] {
    return this.requests.filter((request) => request.url === url);
  }

  async request(request: TransportRequest): Promise<TransportResponse> {
    this.requests.push(request);
    const handler = this.handlers.get(request.url);
    if (!handler) throw new TransportError('refused', `${request.url}: connection refused`);
    return answerFromHttp(await handler(request), `replica ${request.replica}`);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
