/*
 * PLACEHOLDER until the metrics branch is merged: that branch owns
 * `kvstore_gate_request_duration_seconds` and its registry, and the merge
 * replaces this file with its histogram. Only the name and the labels are
 * the contract the web view's traffic sampler reads.
 */
import { Histogram, type Registry } from 'prom-client';

export const REQUEST_DURATION_METRIC = 'kvstore_gate_request_duration_seconds';

export type RequestLabels = 'route' | 'method' | 'code' | 'partition';

export type RequestDuration = Pick<Histogram<RequestLabels>, 'observe'>;

export function createRequestHistogram(registry: Registry): Histogram<RequestLabels> {
  return new Histogram({
    name: REQUEST_DURATION_METRIC,
    help: 'Requests the gate answered, by route, method, status code and partition, and how long they took',
    labelNames: ['route', 'method', 'code', 'partition'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
}
