import type { ClusterView } from '@kvstore/protocol';
import type { RequestHandler, Response } from 'express';
import { isAdmin, requireAccess, type Principal } from '@kvstore/cluster';

/** What the HTTP layer needs of authentication: a Principal for an `Authorization` header, or UNAUTHENTICATED. */
export interface RequestAuthenticator {
  authenticate(authorization: string | undefined): Promise<Principal>;
}

/**
 * Express routes any authenticated user may reach (each checks keys itself);
 * every other one needs admin. `/v1/routing` names the replicas, whose
 * public routes check the same tokens (kvserver --auth on).
 */
const USER_ROUTES = new Set(['/v1/cluster', '/v1/routing', '/api/cache/put', '/api/cache/get']);

/**
 * With `--auth on`, runs before every express route but the probes:
 * authenticates (401) and, outside USER_ROUTES, requires admin (403). What
 * it does not know, it refuses: a route added later (metrics, the web view)
 * is admin-only until it is listed here.
 */
export function accessGuard(auth: RequestAuthenticator): RequestHandler {
  return async (req, res, next) => {
    const principal = await auth.authenticate(req.headers.authorization);
    res.locals.principal = principal;
    if (!USER_ROUTES.has(req.path)) requireAccess(principal, { kind: 'admin' });
    next();
  };
}

/** The Principal accessGuard found for this request; undefined with `--auth off`. */
export function principalOf(res: Response): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

/** Refuses a key the request's user may not read (or write); nothing with `--auth off`. */
export function requireKeyAccess(res: Response, key: string, write: boolean): void {
  const principal = principalOf(res);
  if (principal) requireAccess(principal, { kind: 'key', key, write });
}

/** The cluster view as this user may see it: replica addresses are for admins only. */
export function visibleClusterView(view: ClusterView, principal: Principal | undefined): ClusterView {
  if (!principal || isAdmin(principal)) return view;
  return { ...view, partitions: view.partitions.map((partition) => ({ ...partition, members: partition.members.map(({ url: _url, ...member }) => member) })) };
}

export { challengeHeaders } from '@kvstore/cluster';
