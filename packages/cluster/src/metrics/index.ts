export { createMetricsRegistry, metricNames, serveMetrics } from './registry';
export { ZK_SESSION_STATES, ZkSessionMetrics, type ZkSessionState } from './zk-session-metrics';
export { CounterCell, FastCounter, FastHistogram, HistogramCell } from './fast-metrics';
export { Counter, Gauge, Histogram, Registry } from 'prom-client';
