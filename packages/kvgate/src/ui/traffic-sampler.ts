import type { MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';
import { REQUEST_DURATION as REQUEST_DURATION_METRIC } from '../metrics/gate-metrics';

/** Cumulative request counts of one partition by bucket bound (`le`, seconds; Infinity for `+Inf`), summed over the other labels. */
export type PartitionBuckets = ReadonlyMap<number, number>;

/** One reading of the request histogram: buckets by partition. */
export type HistogramReading = ReadonlyMap<string, PartitionBuckets>;

export interface TrafficPoint {
  opsPerSecond: number;
  /** The 99th percentile of the requests in the interval, in ms; null when there were none. */
  p99Ms: number | null;
}

export interface PartitionTraffic extends TrafficPoint {
  /** One point per sample, oldest first. */
  history: TrafficPoint[];
}

/** Requests the gate answered without routing them to a partition carry this (or no) partition label. */
const NO_PARTITION = new Set(['', 'none']);

/** Folds a histogram's values into bucket counts by partition; pure. */
export function readBuckets(metric: MetricObjectWithValues<MetricValueWithName<string>>): HistogramReading {
  const reading = new Map<string, Map<number, number>>();
  for (const { metricName, labels, value } of metric.values) {
    if (metricName !== `${metric.name}_bucket`) continue;
    const partition = labels.partition;
    if (typeof partition !== 'string' || NO_PARTITION.has(partition)) continue;
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    if (Number.isNaN(le)) continue;
    const buckets = reading.get(partition) ?? new Map<number, number>();
    buckets.set(le, (buckets.get(le) ?? 0) + value);
    reading.set(partition, buckets);
  }
  return reading;
}

/**
 * Rate and p99 per partition between two readings `seconds` apart; pure.
 * The p99 is interpolated within its bucket as Prometheus's
 * histogram_quantile does; in the `+Inf` bucket it is the highest finite
 * bound. A count that went down (a reset) counts as none.
 */
export function trafficBetween(before: HistogramReading, after: HistogramReading, seconds: number): Map<string, TrafficPoint> {
  const traffic = new Map<string, TrafficPoint>();
  for (const [partition, buckets] of after) {
    const earlier = before.get(partition);
    const bounds = [...buckets.keys()].sort((a, b) => a - b);
    const deltas = bounds.map((le) => Math.max(0, buckets.get(le)! - (earlier?.get(le) ?? 0)));
    const total = deltas.at(-1) ?? 0;
    traffic.set(partition, { opsPerSecond: seconds > 0 ? total / seconds : 0, p99Ms: total > 0 ? quantile(0.99, bounds, deltas) * 1000 : null });
  }
  return traffic;
}

/** `q` of cumulative counts `counts` at `bounds` (ascending, the last Infinity). */
function quantile(q: number, bounds: readonly number[], counts: readonly number[]): number {
  const rank = q * counts.at(-1)!;
  const index = counts.findIndex((count) => count >= rank);
  const upper = bounds[index]!;
  if (upper === Infinity) return bounds.length > 1 ? bounds[bounds.length - 2]! : 0;
  const lower = index > 0 ? bounds[index - 1]! : 0;
  const below = index > 0 ? counts[index - 1]! : 0;
  const inBucket = counts[index]! - below;
  return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
}

export interface TrafficSamplerOptions {
  registry: Pick<Registry, 'getSingleMetric'>;
  /** Points of history kept per partition (default 60: a minute at one sample a second). */
  historyLength?: number;
  intervalMs?: number;
  now?: () => number;
}

/**
 * Reads the gate's request histogram once a second and keeps each
 * partition's rate and p99 for the web view, with a minute of history.
 * It adds nothing to the data path: the requests are counted by the
 * histogram the metrics already keep.
 */
export class TrafficSampler {
  private last: { at: number; reading: HistogramReading } | undefined;
  private readonly histories = new Map<string, TrafficPoint[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly historyLength: number;
  private readonly now: () => number;

  constructor(private readonly options: TrafficSamplerOptions) {
    this.historyLength = options.historyLength ?? 60;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one reading; the first only sets the baseline. */
  async sample(): Promise<void> {
    const metric = this.options.registry.getSingleMetric(REQUEST_DURATION_METRIC);
    if (!metric) return;
    const reading = readBuckets(await metric.get());
    const at = this.now();
    const last = this.last;
    this.last = { at, reading };
    if (!last) return;
    const points = trafficBetween(last.reading, reading, (at - last.at) / 1000);
    for (const [partition, point] of points) {
      const history = this.histories.get(partition) ?? [];
      history.push(point);
      if (history.length > this.historyLength) history.splice(0, history.length - this.historyLength);
      this.histories.set(partition, history);
    }
  }

  /** The latest point and the history of `partition`; zeros before any traffic. */
  traffic(partition: string): PartitionTraffic {
    const history = this.histories.get(partition) ?? [];
    const latest = history.at(-1) ?? { opsPerSecond: 0, p99Ms: null };
    return { ...latest, history: [...history] };
  }
}
