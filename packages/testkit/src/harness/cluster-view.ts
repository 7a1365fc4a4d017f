import type { ClusterView } from '@kvstore/protocol';
import { waitFor } from './wait';

/** GET <gate>/v1/cluster, parsed (with `token` for a gate that runs --auth on); throws on anything but a 200 with JSON. */
export async function fetchClusterView(gateUrl: string, timeoutMs = 2000, token?: string): Promise<ClusterView> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await fetch(`${gateUrl}/v1/cluster`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${gateUrl}/v1/cluster answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as ClusterView;
}

export interface ExpectedLayout {
  /** Partition name to the ids of its replicas. */
  partitions: Map<string, string[]>;
}

/**
 * Why the view is not yet the settled cluster we started (every partition on
 * the ring, with a leader and every replica in its in-sync set), or undefined
 * once it is.
 */
export function unsettledReason(view: ClusterView, expected: ExpectedLayout): string | undefined {
  for (const [name, replicas] of expected.partitions) {
    if (!view.ring.partitions.includes(name)) return `partition ${name} is not on the ring (${view.ring.partitions.join(', ')})`;
    const partition = view.partitions.find((candidate) => candidate.name === name);
    if (!partition) return `partition ${name} is missing from the view`;
    if (!partition.leader) return `partition ${name} has no leader`;
    const missing = replicas.filter((id) => !partition.isr.includes(id));
    if (missing.length > 0) return `partition ${name} has isr [${partition.isr.join(', ')}], missing ${missing.join(', ')}`;
  }
  return undefined;
}

/** Waits until GET /readyz answers 200 and the gate's view is settled; returns that view. `token`: asked at every try, for a gate that runs --auth on. */
export async function waitForSettledCluster(
  gateUrl: string,
  expected: ExpectedLayout,
  timeoutMs: number,
  token: () => string | undefined = () => undefined,
): Promise<ClusterView> {
  let reason = 'the gate is not ready';
  try {
    return await waitFor(
      async () => {
        const ready = await fetch(`${gateUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
        await ready.body?.cancel();
        if (ready.status !== 200) {
          reason = `GET ${gateUrl}/readyz answered ${ready.status}`;
          return undefined;
        }
        const view = await fetchClusterView(gateUrl, 2000, token());
        reason = unsettledReason(view, expected) ?? '';
        return reason === '' ? view : undefined;
      },
      { timeoutMs, intervalMs: 200, what: `every partition to have a leader and a full isr at ${gateUrl}` },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message} (${reason})`, { cause: error });
  }
}
