/**
 * Signing in to the web view with `--auth on` (docs/web-ui.md, "Signing
 * in"). A browser sends no bearer token, so the page asks for one and
 * `POST /v1/ui/session` (with `Authorization: Bearer`, checked like any admin
 * request) keeps it in a cookie that is HttpOnly (the page's script cannot
 * read it), SameSite=Strict, Secure under TLS, and sent only to `/v1/ui`. The
 * gate takes the cookie for the page's own reads only, so it can neither
 * write nor reach any other route: a forged cross-site request gains
 * nothing. The cookie holds the token itself, so every gate accepts it and a
 * revoked token fails at once, with no session state in the gate.
 */
import assert from 'node:assert/strict';
import type { Request } from 'express';
import express, { type Router } from 'express';
import { principalOf } from '../auth/access-guard';
import { bearerToken } from '@kvstore/cluster';

export const SESSION_COOKIE = 'kvstore_ui';
const COOKIE_PATH = '/v1/ui';
/** A forgotten browser stays signed in at most this long. */
const COOKIE_MAX_AGE_S = 12 * 60 * 60;
/** The page's reads, on which the cookie stands in for the bearer token. */
const COOKIE_ROUTES = new Set(['/v1/ui/view', '/v1/ui/key', '/v1/ui/session']);

/** What the page is told about its session (`GET /v1/ui/session`). */
export interface UiSession {
  auth: boolean;
  /** The signed-in user; null with `--auth off`. */
  user: string | null;
}

/** With `--auth on`, what needs no token: the page's static files (nothing in them is secret) and signing out. */
export function isOpenUiRoute(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD') return path === '/' || path === '/ui' || path.startsWith('/ui/');
  return method === 'DELETE' && path === '/v1/ui/session';
}

/** The `Authorization` a request stands for: its header, or on the page's reads the session cookie's token. */
export function uiAuthorization(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined || req.method !== 'GET' || !COOKIE_ROUTES.has(req.path)) return header;
  const token = cookieValue(req.headers.cookie, SESSION_COOKIE);
  return token === undefined ? undefined : `Bearer ${token}`;
}

/** One cookie's value from a `Cookie` header; undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const equals = pair.indexOf('=');
    if (equals > 0 && pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim();
  }
  return undefined;
}

function sessionCookie(req: Request, value: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`;
}

/**
 * `GET /v1/ui/session` (who is signed in; with `--auth off`, that nobody need
 * be), and with `auth` `POST` (sign in: the access check has already
 * required an admin's bearer token) and `DELETE` (sign out: the cookie is
 * cleared; the token itself stays valid).
 */
export function sessionRouter(auth: boolean): Router {
  const router = express.Router();
  router.get('/v1/ui/session', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ auth, user: principalOf(res)?.user ?? null } satisfies UiSession);
  });
  if (!auth) return router;
  router.post('/v1/ui/session', (req, res) => {
    const token = bearerToken(req.headers.authorization);
    const principal = principalOf(res);
    // A cookie is never taken on a POST: the access check let in a bearer token of an admin.
    assert.ok(token !== undefined && principal !== undefined, 'sign-in without a checked bearer token');
    res.setHeader('set-cookie', sessionCookie(req, token, COOKIE_MAX_AGE_S));
    res.setHeader('cache-control', 'no-store');
    res.json({ auth, user: principal.user } satisfies UiSession);
  });
  router.delete('/v1/ui/session', (req, res) => {
    res.setHeader('set-cookie', sessionCookie(req, '', 0));
    res.status(204).end();
  });
  return router;
}
