// @module --cors-allow-origin: CORS headers and preflight answers for the listed browser origins only.
import type { RequestHandler } from 'express';

/** Response headers a browser page may read: the request id and TGI's timing headers. */
const EXPOSED = [
  'x-request-id',
  'x-compute-type',
  'x-compute-time',
  'x-compute-characters',
  'x-total-time',
  'x-validation-time',
  'x-queue-time',
  'x-inference-time',
  'x-time-per-token',
  'x-prompt-tokens',
  'x-generated-tokens',
].join(', ');
const ALLOWED_HEADERS = 'authorization, content-type, x-api-key, x-request-id';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** Browsers cache a preflight this long (seconds). */
const MAX_AGE = '600';

/**
 * Adds Access-Control-* headers for an allowed Origin ('*' allows any) and answers its preflight
 * (OPTIONS with Access-Control-Request-Method) with 204 before any API-key check: browsers never send
 * credentials on a preflight. Other origins get no CORS headers, so the browser withholds the answer.
 */
export function cors(allowOrigins: readonly string[]): RequestHandler {
  const any = allowOrigins.includes('*');
  const allowed = new Set(allowOrigins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin === undefined) return next();
    if (!any) res.append('vary', 'Origin');
    const preflight = req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined;
    if (!any && !allowed.has(origin)) {
      if (preflight) return void res.status(204).end();
      return next();
    }
    res.setHeader('access-control-allow-origin', any ? '*' : origin);
    res.setHeader('access-control-expose-headers', EXPOSED);
    if (!preflight) return next();
    res.setHeader('access-control-allow-methods', ALLOWED_METHODS);
    res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
    res.setHeader('access-control-max-age', MAX_AGE);
    res.status(204).end();
  };
}
