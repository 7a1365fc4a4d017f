import { KvError, type KvClient } from '@kvstore/kvclient';
import { parseKvRequest } from '@kvstore/protocol';

/** A `/v1/kv` request as the workloads make them: a url, and the headers and body of HTTP. */
export interface UrlRequest {
  /** GET, PUT or DELETE; any other is answered as the API would (404). */
  method: string;
  /** `/v1/kv/<key>[?ttl=…|?consistency=…]` */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** What the client answered, as HTTP would have: a success's value (a GET) and version, or an API error's status and JSON body. */
export interface ClientAnswer {
  status: number;
  body: string;
  version: number | undefined;
  partition: string | null;
  replica: string | null;
}

/**
 * Sends a url-shaped request with a KvClient's own get, put and delete (the
 * self-routing client in the bench and in chaos): the client's rules decide
 * what it sends again, and what it reports comes back as an answer. Rejects
 * only with what is not an API error.
 */
export async function requestThroughClient(client: KvClient, request: UrlRequest): Promise<ClientAnswer> {
  const { headers = {} } = request;
  const succeeded = (body: string, written: number, partition: string | null = null, replica: string | null = null): ClientAnswer => ({ status: 200, body, version: written, partition, replica });
  try {
    const { method, key, consistency, ttl, ifMatch, ifNoneMatch } = parseKvRequest(request.method, request.path, headers['if-match'], headers['if-none-match']);
    const version = typeof ifMatch === 'number' ? ifMatch : undefined;
    if (method === 'GET') {
      const read = await client.get(key, { consistency });
      return succeeded(read.value.toString('utf8'), read.version, read.partition, read.replica);
    }
    if (method === 'PUT') return succeeded('', (await client.put(key, request.body ?? '', { ttlSeconds: ttl, ifMatch: version, ifNoneMatch })).version);
    return succeeded('', (await client.delete(key, { ifMatch: version })).version);
  } catch (error) {
    if (!(error instanceof KvError)) throw error;
    return { status: error.status, body: JSON.stringify(error.toJSON()), version: undefined, partition: null, replica: null };
  }
}
