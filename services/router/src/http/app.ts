// @module createApp(deps): middleware order and the route table, on one screen.
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { RouterError, toRouterError } from '../errors.ts';
import { dialectForPath, errorResponse } from './error-response.ts';
import { openAIRoutes, type OpenAIRouteDeps } from './routes-openai.ts';
import { tgiRoutes, type TgiRouteDeps } from './routes-tgi.ts';
import { offloadLargeJson } from './offload-json.ts';
import { statsRoutes, type StatsBody } from './routes-stats.ts';
import { bindRequestContext, requestLog } from '../observability/request-log.ts';
import { statusRoutes } from '../observability/status-routes.ts';
import type { StatusHistory } from '../observability/status-history.ts';

export interface AppDeps extends OpenAIRouteDeps, TgiRouteDeps {
  logger?: Logger;
  /** Largest accepted request body, in bytes. Default 16 MiB. */
  bodyLimit?: number;
  /** Batching/KV counters for GET /stats; without it the route is absent. */
  stats?: () => StatsBody;
  /** Status page data (GET /, /status); without it those routes are absent. */
  status?: StatusHistory;
  /** Put prompt and output text into the request log lines (--log-prompts). Default false. */
  logPrompts?: boolean;
  /** True once shutdown began: every route but the probes answers 503. */
  draining?: () => boolean;
  /** Parses a large JSON body off the event loop (the encoder pool); without it express.json parses every body. */
  parseJson?: (body: Uint8Array) => Promise<unknown>;
}

/** Default largest request body (16 MiB). */
const BODY_LIMIT_BYTES = 16 * 2 ** 20;

/** Routes that keep answering while draining (probes and scrapes). */
const PROBE_PATHS = new Set(['/health', '/live', '/metrics', '/status']);

function refuseWhileDraining(draining: () => boolean): RequestHandler {
  return (req, res, next) => {
    if (!draining()) return next();
    res.setHeader('connection', 'close');
    if (req.method === 'GET' && PROBE_PATHS.has(req.path)) return next();
    next(new RouterError('unavailable', 'the router is shutting down'));
  };
}

/** Echoes the client's x-request-id, or makes one, on every response. */
const requestId: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  res.setHeader('x-request-id', given !== undefined && given.length > 0 && given.length <= 200 ? given : randomUUID());
  next();
};

function countRequests(deps: AppDeps): RequestHandler {
  return (req, res, next) => {
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      deps.metrics.requests.inc({ route, status: String(res.statusCode) });
    });
    next();
  };
}

function renderErrors(logger: Logger | undefined): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const e = err as { type?: string; message?: string };
    let routerError: RouterError;
    if (e?.type === 'entity.parse.failed') routerError = new RouterError('bad_request', `request body is not valid JSON: ${e.message}`);
    else if (e?.type === 'entity.too.large') routerError = new RouterError('bad_request', 'request body is too large');
    else if (typeof e?.type === 'string' && e.type.startsWith('encoding.')) routerError = new RouterError('bad_request', e.message ?? 'bad body encoding');
    else routerError = toRouterError(err);
    if (routerError.code === 'internal') logger?.error({ err, path: req.path }, 'unhandled error');
    if (res.headersSent) {
      res.end();
      return;
    }
    const { status, body } = errorResponse(routerError, dialectForPath(req.path));
    res.status(status).json(body);
  };
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(requestId);
  app.use(requestLog(deps.logger, deps.logPrompts ?? false));
  app.use(countRequests(deps));
  if (deps.draining !== undefined) app.use(refuseWhileDraining(deps.draining));
  if (deps.parseJson !== undefined) app.use(offloadLargeJson(deps.parseJson, { limitBytes: deps.bodyLimit ?? BODY_LIMIT_BYTES }));
  // Parse every body as JSON whatever its content type: many clients omit or mislabel it.
  app.use(express.json({ limit: deps.bodyLimit ?? BODY_LIMIT_BYTES, type: () => true, strict: false }));
  app.use(bindRequestContext);
  if (deps.status !== undefined) app.use(statusRoutes({ status: deps.status }));

  if (deps.stats !== undefined) app.use(statsRoutes({ stats: deps.stats }));
  app.use(openAIRoutes(deps));
  app.use(tgiRoutes(deps));

  app.use((req, _res, next) => next(new RouterError('not_found', `no route for ${req.method} ${req.path}`)));
  app.use(renderErrors(deps.logger));
  return app;
}
