import * as path from 'node:path';
import { parseConsistency, parseSeedGetKey, slotOf, type Consistency } from '@kvstore/protocol';
import express, { type Router } from 'express';
import { requestIdOf } from '../http/request-id';
import type { Forwarder } from '../proxy/forwarder';
import type { RouteSource } from '../routing/routing-state';
import type { UiView } from './ui-view';

/** The page's files: `packages/kvgate/ui`, beside `dist/` (this file runs as `dist/src/ui/ui-routes.js`). */
export const UI_DIR = path.resolve(__dirname, '../../../ui');

/** How much of a value the key box shows. */
const PREVIEW_BYTES = 4096;

export interface UiDeps {
  /** The cached view (CachedValue): browsers' polls never reach the replicas themselves. */
  view: () => Promise<UiView>;
  routing: Pick<RouteSource, 'table'>;
  forwarder: Pick<Forwarder, 'forward'>;
}

/** A value as the page shows it: text when it is UTF-8, else base64; at most PREVIEW_BYTES of it. */
export interface ValuePreview {
  bytes: number;
  encoding: 'utf8' | 'base64';
  preview: string;
  truncated: boolean;
}

/** `GET /v1/ui/key`: where a key lives, and what a read of it answered. */
export interface KeyLookup {
  key: string;
  slot: number;
  partition: string | null;
  ringVersion: number | null;
  leader: string | null;
  replicas: string[];
  consistency: Consistency;
  read: {
    status: number;
    replica: string | null;
    version: number | null;
    value: ValuePreview | null;
    error: { code: string; message: string } | null;
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function previewValue(value: Buffer): ValuePreview {
  const head = value.subarray(0, PREVIEW_BYTES);
  const truncated = value.length > PREVIEW_BYTES;
  try {
    utf8.decode(value);
    // Cut at a character boundary: stream mode holds back a partial last character.
    const text = new TextDecoder('utf-8').decode(head, { stream: truncated });
    return { bytes: value.length, encoding: 'utf8', preview: text, truncated };
  } catch {
    return { bytes: value.length, encoding: 'base64', preview: head.toString('base64'), truncated };
  }
}

/**
 * The web view (docs/web-ui.md): its static files at `/ui/` (`/` leads
 * there), the cached cluster view it polls, and the key box's lookup. The
 * lookup reads through the forwarder as `GET /v1/kv/<key>` does, so the
 * page shows what a client would get.
 */
export function uiRouter(deps: UiDeps): Router {
  const router = express.Router();
  router.get('/', (_req, res) => res.redirect(302, '/ui/'));
  router.use(
    '/ui',
    express.static(UI_DIR, {
      index: 'index.html',
      dotfiles: 'ignore',
      fallthrough: true,
      setHeaders: (res) => {
        // Revalidated each load (ETag, Last-Modified): a new gate's page is seen at once.
        res.setHeader('cache-control', 'no-cache');
        res.setHeader('x-content-type-options', 'nosniff');
        res.setHeader('content-security-policy', "default-src 'self'; img-src 'self' data:");
      },
    }),
  );
  router.get('/v1/ui/view', async (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json(await deps.view());
  });
  router.get('/v1/ui/key', async (req, res) => {
    const key = parseSeedGetKey(req.query.key);
    const consistency = parseConsistency(req.query.consistency);
    const table = deps.routing.table();
    const route = table.route(key);
    const lookup = { method: 'GET', key, ttl: undefined, consistency, ifMatch: undefined, ifNoneMatch: false, requestId: requestIdOf(req), body: Buffer.alloc(0) } as const;
    const result = await deps.forwarder.forward(lookup);
    const error = result.ok ? undefined : result.error;
    const answer: KeyLookup = {
      key,
      slot: slotOf(key),
      partition: route?.partition ?? null,
      ringVersion: table.ringVersion ?? null,
      leader: route?.leader?.id ?? null,
      replicas: route?.replicas.map((replica) => replica.id) ?? [],
      consistency,
      read: {
        status: result.ok ? 200 : result.error.status,
        replica: result.replica ?? null,
        version: result.ok ? (result.response.version ?? null) : null,
        value: result.ok ? previewValue(result.response.body) : null,
        error: error ? { code: error.code, message: error.message } : null,
      },
    };
    res.setHeader('cache-control', 'no-store');
    res.json(answer);
  });
  return router;
}
