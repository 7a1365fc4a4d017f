/**
 * `--auth on` on a replica: its public routes check a user's bearer token by
 * the gate's rules (the same users, watched in ZooKeeper, and the same
 * grants), so that a client that routes itself to replicas gets no more
 * than through a gate. `/internal/*` and the internal protocol are not
 * users' routes: the cluster secret (and TLS client certificates) guard them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CLUSTER_PROOF_HEADER,
  challengeHeaders,
  peerCertificateRefusal,
  proofSubject,
  requestIdFor,
  requireAccess,
  sendAnswer,
  type Authenticator,
  type ClusterAuth,
} from '@kvstore/cluster';
import { HEADER_REQUEST_ID, decodeKey, splitKvUrl } from '@kvstore/protocol';
import type { Request, RequestHandler } from 'express';
import type { KvService } from './kv-service';

export type PublicAuth = Pick<Authenticator, 'authenticate'>;

/** How a peer proves itself: the cluster secret, and with TLS a certificate of the cluster CA. */
export interface Peers {
  auth: ClusterAuth;
  requirePeerCertificate?: boolean | undefined;
}

function isPeer(peers: Peers, request: Request): boolean {
  const proof = request.get(CLUSTER_PROOF_HEADER);
  if (proof === undefined || peers.auth.check(proofSubject(request.method, request.originalUrl), proof) !== undefined) return false;
  return !peers.requirePeerCertificate || peerCertificateRefusal(request.socket) === undefined;
}

/**
 * Express routes past the probes: `/internal/*` has its own proof; everything
 * else (metrics, snapshots, the seed API) wants admin, or a peer's proof of
 * the cluster secret (a gate streaming a snapshot for an admin it checked).
 */
export function publicAccessGuard(auth: PublicAuth, peers: Peers): RequestHandler {
  return async (request, _response, next) => {
    if (request.path.startsWith('/internal/') || isPeer(peers, request)) return next();
    requireAccess(await auth.authenticate(request.headers.authorization), { kind: 'admin' });
    next();
  };
}

/**
 * Refuses a `/v1/kv` request whose token does not grant its key (401, 403,
 * with the API's error body), before its body is read; true when it may go on.
 */
export async function kvAccessGranted(auth: PublicAuth, kv: Pick<KvService, 'refusal'>, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  try {
    const principal = await auth.authenticate(request.headers.authorization);
    const key = decodeKey(splitKvUrl(request.url ?? '').encodedKey);
    requireAccess(principal, { kind: 'key', key, write: request.method !== 'GET' });
    return true;
  } catch (error) {
    const answer = kv.refusal(error, requestIdFor(request.headers[HEADER_REQUEST_ID]));
    sendAnswer(response, { ...answer, headers: { ...answer.headers, ...challengeHeaders(error) } });
    return false;
  }
}
