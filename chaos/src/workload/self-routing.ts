import { KvClient, KvError } from '@kvstore/kvclient';
import { parseKvRequest } from '@kvstore/protocol';
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
  const { key, consistency, ttl, ifMatch, ifNoneMatch } = parseKvRequest(method, path, headers['if-match'], headers['if-none-match']);
  const version = typeof ifMatch === 'number' ? ifMatch : undefined;
  try {
    if (method === 'GET') {
      const read = await client.get(key, { consistency });
      return answered(200, read.value.toString('utf8'), read.version, read.partition, read.replica);
    }
    if (method === 'PUT') {
      const { version: written } = await client.put(key, body ?? '', { ttlSeconds: ttl, ifMatch: version, ifNoneMatch });
      return answered(200, '', written, null, null);
    }
    const { version: deleted } = await client.delete(key, { ifMatch: version });
    return answered(200, '', deleted, null, null);
  } catch (error) {
    if (!(error instanceof KvError)) return { kind: 'lost', error: (error as Error).message };
    return answered(error.status, JSON.stringify(error.toJSON()), undefined, null, null);
  }
}

function answered(status: number, body: string, version: number | undefined, partition: string | null, replica: string | null): Attempt {
  return { kind: 'answered', status, body, etag: version === undefined ? null : `"${version}"`, partition, replica };
}
