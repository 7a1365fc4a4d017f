/**
 * What a user's grants allow, in the style of etcd's RBAC: `read` reads
 * keys, `readwrite` also writes them, `admin` does everything, the admin
 * routes included; a read or readwrite grant may be limited to keys with
 * given prefixes. Pure: the gate asks, this answers.
 */
import { forbidden, type UserGrant } from '@kvstore/protocol';

/** The one who sent a request, as the token proved it. */
export interface Principal {
  user: string;
  grants: readonly UserGrant[];
}

/** A request as the grants see it: a key read or written, or anything else (admin). */
export type Access = { kind: 'key'; key: string; write: boolean } | { kind: 'admin' };

function covers(grant: UserGrant, key: string): boolean {
  return grant.prefixes === undefined || grant.prefixes.some((prefix) => key.startsWith(prefix));
}

export function isAdmin(principal: Principal): boolean {
  return principal.grants.some((grant) => grant.role === 'admin');
}

export function allows(principal: Principal, access: Access): boolean {
  if (access.kind === 'admin') return isAdmin(principal);
  return principal.grants.some(
    (grant) => (grant.role === 'admin' || grant.role === 'readwrite' || (grant.role === 'read' && !access.write)) && covers(grant, access.key),
  );
}

/** Throws FORBIDDEN (403) unless the grants allow it; the message names neither value nor token. */
export function requireAccess(principal: Principal, access: Access): void {
  if (allows(principal, access)) return;
  const what = access.kind === 'admin' ? 'the admin role' : `${access.write ? 'write' : 'read'} access to this key`;
  throw forbidden(`user ${principal.user} lacks ${what}`);
}
