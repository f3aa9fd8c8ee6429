// @module --api-key: every route but the public GET paths needs `Authorization: Bearer KEY` or `x-api-key: KEY`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { RouterError } from '../errors.ts';
import type { RouterMetrics } from '../metrics.ts';
import { dialectForPath, errorResponse } from './error-response.ts';

/** Hashing first gives equal-length inputs, so the comparison time says nothing about the key (nor its length). */
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The key a request presents, if any: a Bearer token first, else x-api-key. */
export function presentedKey(req: Pick<Request, 'get'>): string | undefined {
  const auth = req.get('authorization');
  const bearer = auth === undefined ? undefined : /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1];
  return bearer ?? req.get('x-api-key');
}

export interface ApiKeyOptions {
  apiKey: string;
  /** GET/HEAD paths that need no key (probes, scrapes). */
  publicPaths: readonly string[];
  metrics: RouterMetrics;
}

/** Answers 401 itself (in the route's API format), so it can guard any app, the warming-up one included. */
export function requireApiKey(opts: ApiKeyOptions): RequestHandler {
  const expected = digest(opts.apiKey);
  const open = new Set(opts.publicPaths);
  return (req, res, next) => {
    // Express routes `/health/` to /health too, so the public check ignores a trailing slash as well.
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    if ((req.method === 'GET' || req.method === 'HEAD') && open.has(path)) return next();
    const given = presentedKey(req);
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return next();
    opts.metrics.rejected.inc({ reason: 'unauthorized' });
    const message = given === undefined ? 'missing API key: send `Authorization: Bearer KEY` or `x-api-key: KEY`' : 'invalid API key';
    const { status, body } = errorResponse(new RouterError('unauthorized', message), dialectForPath(req.path));
    res.setHeader('www-authenticate', 'Bearer');
    res.status(status).json(body);
  };
}
