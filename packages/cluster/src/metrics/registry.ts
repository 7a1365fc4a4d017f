import type { ServerResponse } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A process's own metrics registry (never prom-client's global one, so two
 * processes in one test, or a library that registers its own, never mix),
 * with the usual process metrics (CPU, memory, event loop lag, GC).
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `GET /metrics`: the registry in Prometheus text format; a failed collect is a 500 with its message. */
export function serveMetrics(registry: Registry, response: ServerResponse): void {
  registry.metrics().then(
    (text) => {
      response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      response.end(text);
    },
    (error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`metrics could not be collected: ${error instanceof Error ? error.message : String(error)}\n`);
    },
  );
}

/** The name of every metric `registry` holds: what the alert rules and the dashboard may use. */
export function metricNames(registry: Registry): string[] {
  return registry.getMetricsAsArray().map((metric) => metric.name);
}
