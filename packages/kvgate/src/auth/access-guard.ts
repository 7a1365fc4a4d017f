import type { ClusterView } from '@kvstore/protocol';
import type { Request, RequestHandler, Response } from 'express';
import { isAdmin, requireAccess, type Principal } from '@kvstore/cluster';

/** What the HTTP layer needs of authentication: a Principal for an `Authorization` header, or UNAUTHENTICATED. */
export interface RequestAuthenticator {
  /** `address`: where the request came from (failed logins are limited per address). */
  authenticate(authorization: string | undefined, address: string | undefined): Promise<Principal>;
}

/** Routes that take credentials other than the header, or none (the web view's: ui/ui-session.ts). */
export interface CredentialRules {
  isOpen(method: string, path: string): boolean;
  authorization(req: Request): string | undefined;
}

const HEADER_ONLY: CredentialRules = { isOpen: () => false, authorization: (req) => req.headers.authorization };

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
 * is admin-only until it is listed here. `rules` open the web view's static
 * files and let its session cookie stand in for the header on its reads.
 */
export function accessGuard(auth: RequestAuthenticator, rules: CredentialRules = HEADER_ONLY): RequestHandler {
  return async (req, res, next) => {
    if (rules.isOpen(req.method, req.path)) return next();
    const principal = await auth.authenticate(rules.authorization(req), req.socket.remoteAddress);
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
