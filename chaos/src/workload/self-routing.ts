import type { KvClient } from '@kvstore/kvclient';
import { requestThroughClient } from '@kvstore/testkit/harness';
import type { Attempt } from './http';

/**
 * One request of the workload through a self-routing kvclient (`routing:
 * 'direct'`: binary frames straight to the replica, the gates for what a
 * replica refused as safe to retry), classified as the history needs it.
 * kvclient's own rules decide what it sends again; what it reports is
 * recorded as an answer: its errors carry the API's status, so a TIMEOUT
 * (504) is an unknown outcome and an UNAVAILABLE (503, nothing sent) a
 * failure, as over HTTP.
 */
export async function selfRoutingAttempt(client: KvClient, method: 'GET' | 'PUT' | 'DELETE', path: string, headers: Record<string, string>, body?: string): Promise<Attempt> {
  try {
    const { version, ...answer } = await requestThroughClient(client, { method, path, headers, body });
    return { kind: 'answered', ...answer, etag: version === undefined ? null : `"${version}"` };
  } catch (error) {
    return { kind: 'lost', error: (error as Error).message };
  }
}
