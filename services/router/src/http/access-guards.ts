// @module The access middleware both HTTP apps (warming up and serving) run first: CORS, then the API key.
import type { RequestHandler } from 'express';
import type { EdgeOptions } from '../edge-options.ts';
import type { RouterMetrics } from '../metrics.ts';
import { requireApiKey } from './api-key.ts';
import { cors } from './cors.ts';

/** CORS before the key check: a preflight carries no credentials, and a 401 must still be readable by an allowed page. */
export function accessGuards(opts: Pick<EdgeOptions, 'apiKey' | 'publicPaths' | 'corsAllowOrigins'>, metrics: RouterMetrics): RequestHandler[] {
  const guards: RequestHandler[] = [];
  if (opts.corsAllowOrigins.length > 0) guards.push(cors(opts.corsAllowOrigins));
  if (opts.apiKey !== null) guards.push(requireApiKey({ apiKey: opts.apiKey, publicPaths: opts.publicPaths, metrics }));
  return guards;
}
