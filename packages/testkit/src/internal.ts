import { ClusterAuth } from '@kvstore/cluster';
import type { TestServer } from './cluster';

/** One per secret file: a ClusterAuth remembers the proofs it accepted, and reading the file once is enough. */
const auths = new Map<string, ClusterAuth>();

/** The ClusterAuth of the secret `server` was started with. */
export function clusterAuthOf(server: TestServer): ClusterAuth {
  const file = server.options.clusterSecretFile;
  if (file === undefined) throw new Error(`${server.id} was started without --cluster-secret-file`);
  let auth = auths.get(file);
  if (!auth) {
    auth = ClusterAuth.fromFile(file);
    auths.set(file, auth);
  }
  return auth;
}

/** GET an internal route of a replica (`/internal/status`, say), proving its cluster's secret as its peers do. */
export function internalGet(server: TestServer, path: string, timeoutMs = 2000): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers: clusterAuthOf(server).headersFor('GET', path), signal: AbortSignal.timeout(timeoutMs) });
}
