import { FastCounter, FastHistogram, Gauge, ZkSessionMetrics, createMetricsRegistry, type CounterCell, type HistogramCell, type Registry } from '@kvstore/cluster';
import type { RefusalReason } from '../limits/request-limits';
import type { RetryReason } from '../proxy/forwarder';

/** What a request was, for the `route` label: the data path, or which kind of other route. */
export type GateRoute = 'kv' | 'seed' | 'cluster' | 'admin' | 'probe' | 'metrics' | 'ui' | 'other';


/** The histogram the web view samples for ops/s and p99 per partition: keep this name and its labels. */
export const REQUEST_DURATION = 'kvstore_gate_request_duration_seconds';

/** From 0.5 ms (a read on a quiet host) to 10 s (past any write timeout). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH']);

interface RequestCells {
  count: CounterCell;
  duration: HistogramCell;
}

export interface GateMetricsSources {
  /** The `/ring` version routing uses; undefined before one is loaded. */
  routingVersion(): number | undefined;
  /** Open connections per replica url. */
  connections(): Map<string, number>;
}

/**
 * The gate's metrics, in a registry of its own. The data path pays for a
 * request one Map lookup by a short string and a few additions (cells made
 * once per distinct label set; see FastHistogram). Gauges that describe
 * state are read when scraped.
 */
export class GateMetrics {
  readonly registry: Registry;
  readonly zooKeeper: ZkSessionMetrics;
  private readonly requests: FastCounter<'route' | 'method' | 'code' | 'partition'>;
  private readonly durations: FastHistogram<'route' | 'method' | 'code' | 'partition'>;
  private readonly retries: FastCounter<'reason'>;
  private readonly rateLimits: FastCounter<'reason'>;
  /** By route, method, code, partition: nested maps of strings the caller already holds, as building a key string per request would cost more than the rest. */
  private readonly cells = new Map<string, Map<string, Map<number, Map<string, RequestCells>>>>();
  private inFlight = 0;

  constructor(sources: GateMetricsSources) {
    const registry = createMetricsRegistry();
    this.registry = registry;
    const labelNames = ['route', 'method', 'code', 'partition'] as const;
    this.requests = new FastCounter({
      name: 'kvstore_gate_requests_total',
      help: 'Requests answered, by route, method, HTTP status and partition (empty when none)',
      labelNames,
      registers: [registry],
    });
    this.durations = new FastHistogram({
      name: REQUEST_DURATION,
      help: 'Time from a request\'s arrival to its answer, by route, method, HTTP status and partition',
      labelNames,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.retries = new FastCounter({
      name: 'kvstore_gate_retries_total',
      help: 'Requests tried again (or waited for a change) before answering, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.rateLimits = new FastCounter({
      name: 'kvstore_gate_rate_limited_total',
      help: 'Requests refused 429 by the per-client limits or the failed-login limit, by reason (rate, in_flight, failed_logins)',
      labelNames: ['reason'],
      registers: [registry],
    });
    const metrics = this;
    new Gauge({
      name: 'kvstore_gate_requests_in_flight',
      help: 'Requests received and not answered yet',
      registers: [registry],
      collect() {
        this.set(metrics.inFlight);
      },
    });
    new Gauge({
      name: 'kvstore_gate_routing_version',
      help: 'Version of the /ring record routing uses (-1 before one is loaded)',
      registers: [registry],
      collect() {
        this.set(sources.routingVersion() ?? -1);
      },
    });
    new Gauge({
      name: 'kvstore_gate_upstream_connections',
      help: 'Open internal-protocol connections to each replica',
      labelNames: ['upstream'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [upstream, count] of sources.connections()) this.set({ upstream }, count);
      },
    });
    this.zooKeeper = new ZkSessionMetrics(registry);
  }

  /** A request arrived. */
  arrived(): void {
    this.inFlight++;
  }

  /** A request was answered `code`, `durationMs` after it arrived. */
  answered(durationMs: number, route: GateRoute, method: string | undefined, code: number, partition = ''): void {
    this.inFlight--;
    const known = method !== undefined && METHODS.has(method) ? method : 'OTHER';
    const byPartition = inner(inner(inner(this.cells, route), known), code);
    let cells = byPartition.get(partition);
    if (!cells) {
      const labels = [route, known, String(code), partition];
      cells = { count: this.requests.cell(...labels), duration: this.durations.cell(...labels) };
      byPartition.set(partition, cells);
    }
    cells.count.inc();
    cells.duration.observe(durationMs / 1000);
  }

  retried(reason: RetryReason): void {
    this.retries.cell(reason).inc();
  }

  rateLimited(reason: RefusalReason): void {
    this.rateLimits.cell(reason).inc();
  }
}

/** The map under `key`, made when absent. */
function inner<K, InnerKey, V>(map: Map<K, Map<InnerKey, V>>, key: K): Map<InnerKey, V> {
  let found = map.get(key);
  if (!found) {
    found = new Map();
    map.set(key, found);
  }
  return found;
}

/** Which kind of route a path is, for the `route` label (the data path is labelled where it is served). */
export function routeOf(path: string): GateRoute {
  if (path.startsWith('/v1/admin/')) return 'admin';
  // The routing table is the cluster view a self-routing client reads.
  if (path === '/v1/cluster' || path.startsWith('/v1/cluster/') || path === '/v1/routing') return 'cluster';
  if (path.startsWith('/api/cache/')) return 'seed';
  if (path === '/healthz' || path === '/readyz') return 'probe';
  if (path === '/metrics') return 'metrics';
  // The page's files and what it polls (the view, key lookups, its session).
  if (path === '/ui' || path.startsWith('/ui/') || path.startsWith('/v1/ui/')) return 'ui';
  return 'other';
}
