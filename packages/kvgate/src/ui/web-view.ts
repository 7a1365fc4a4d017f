import type { ClusterView } from '@kvstore/protocol';
import type { Registry } from 'prom-client';
import type { Forwarder } from '../proxy/forwarder';
import type { RoutingState } from '../routing/routing-state';
import type { ClusterSnapshot } from '../routing/snapshot';
import { CachedValue } from './cached-value';
import { PartitionHistory } from './partition-history';
import { TrafficSampler } from './traffic-sampler';
import type { UiDeps } from './ui-routes';
import { buildUiView } from './ui-view';

/** However many browsers poll, the replicas are asked for their status at most this often. */
const VIEW_MAX_AGE_MS = 1000;

export interface WebViewDeps {
  /** Holds the request histogram the traffic sampler reads. */
  registry: Pick<Registry, 'getSingleMetric'>;
  routing: Pick<RoutingState, 'snapshot' | 'table'>;
  forwarder: Pick<Forwarder, 'forward'>;
  /** The `/v1/cluster` view (it asks every replica). */
  clusterView: () => Promise<ClusterView>;
}

export interface WebView {
  /** For createApp. */
  deps: UiDeps;
  /** Feed every snapshot the watcher publishes. */
  observe(snapshot: ClusterSnapshot): void;
  stop(): void;
}

/** The gate's side of the web view: the traffic sampler (started here), what it remembers of the records, the cached view. */
export function startWebView(deps: WebViewDeps): WebView {
  const history = new PartitionHistory();
  const sampler = new TrafficSampler({ registry: deps.registry });
  sampler.start();
  const view = new CachedValue(
    async () =>
      buildUiView(await deps.clusterView(), {
        ring: deps.routing.snapshot().ring,
        history,
        traffic: (partition) => sampler.traffic(partition),
        builtAt: Date.now(),
      }),
    VIEW_MAX_AGE_MS,
  );
  return {
    deps: { view: () => view.get(), routing: deps.routing, forwarder: deps.forwarder },
    observe: (snapshot) => history.observe(snapshot),
    stop: () => sampler.stop(),
  };
}
