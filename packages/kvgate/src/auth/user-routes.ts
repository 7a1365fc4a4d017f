import { USER_ROLES, badRequest, isValidName, type UserGrant, type UserRole } from '@kvstore/protocol';
import express, { type Router } from 'express';
import type { UserAdmin } from './user-admin';

/** A user's grants fit in far less; the limit keeps a bad client from making the gate parse megabytes. */
const BODY_LIMIT = '64kb';
const MAX_PREFIX_BYTES = 1024;
const MAX_EXPIRES_IN_S = 10 * 365 * 24 * 60 * 60;

/**
 * `/v1/admin/users` (docs/api.md, "Users"), for admins only (the app's
 * access check runs first): list; add a user with grants (201, the token
 * shown once); remove it; set or take away its grant of one role; add a
 * token (rotation; 201, shown once) or remove one. A token may expire.
 */
export function userRouter(admin: UserAdmin): Router {
  const router = express.Router();
  const json = express.json({ limit: BODY_LIMIT, type: () => true });
  router.get('/v1/admin/users', async (_req, res) => {
    res.json({ users: await admin.list() });
  });
  router.post('/v1/admin/users/:name', json, async (req, res) => {
    const grants = grantList(field(req.body, 'grants'));
    res.status(201).json(await admin.add(userName(req.params.name), grants, expiresInS(field(req.body, 'expiresInS'))));
  });
  router.post('/v1/admin/users/:name/tokens', json, async (req, res) => {
    res.status(201).json(await admin.addToken(userName(req.params.name), expiresInS(field(req.body, 'expiresInS'))));
  });
  router.delete('/v1/admin/users/:name/tokens/:id', async (req, res) => {
    res.json(await admin.removeToken(userName(req.params.name), req.params.id));
  });
  router.delete('/v1/admin/users/:name', async (req, res) => {
    res.json(await admin.remove(userName(req.params.name)));
  });
  router.put('/v1/admin/users/:name/grants/:role', json, async (req, res) => {
    const role = roleName(req.params.role);
    res.json(await admin.grant(userName(req.params.name), grantOf(role, field(req.body, 'prefixes'))));
  });
  router.delete('/v1/admin/users/:name/grants/:role', async (req, res) => {
    res.json(await admin.revoke(userName(req.params.name), roleName(req.params.role)));
  });
  return router;
}

function field(body: unknown, name: string): unknown {
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object');
  return (body as Record<string, unknown>)[name];
}

function userName(name: string): string {
  if (!isValidName(name)) throw badRequest("a user name is letters, digits, '.', '_' or '-' (at most 64)");
  return name;
}

/** A token's lifetime in whole seconds, 1 s to 10 years; undefined: it never expires. */
function expiresInS(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_EXPIRES_IN_S) {
    throw badRequest(`expiresInS must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN_S}`);
  }
  return value as number;
}

function roleName(role: unknown): UserRole {
  const found = USER_ROLES.find((known) => known === role);
  if (found === undefined) throw badRequest(`role must be one of ${USER_ROLES.join(', ')}`);
  return found;
}

/** Validates one grant: prefixes, when given, are a non-empty list of non-empty strings, and never on admin. */
export function grantOf(role: UserRole, prefixes: unknown): UserGrant {
  if (prefixes === undefined || prefixes === null) return { role };
  if (role === 'admin') throw badRequest('an admin grant covers every key: it takes no prefixes');
  const valid =
    Array.isArray(prefixes) &&
    prefixes.length > 0 &&
    prefixes.every((prefix) => typeof prefix === 'string' && prefix.length > 0 && Buffer.byteLength(prefix) <= MAX_PREFIX_BYTES);
  if (!valid) throw badRequest(`prefixes must be a non-empty list of non-empty strings of at most ${MAX_PREFIX_BYTES} bytes`);
  return { role, prefixes: [...new Set(prefixes as string[])] };
}

function grantList(value: unknown): UserGrant[] {
  if (!Array.isArray(value) || value.length === 0) throw badRequest('grants must be a non-empty list of {role, prefixes?}');
  const grants = value.map((grant) => grantOf(roleName(field(grant, 'role')), field(grant, 'prefixes')));
  if (new Set(grants.map((grant) => grant.role)).size !== grants.length) throw badRequest('at most one grant per role');
  return grants;
}
