// @module createApp(deps): middleware order and the route table, on one screen.
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { RouterError, toRouterError, type ErrorCode } from '../errors.ts';
import { DEFAULT_JSON_BODY_LIMITS, jsonBody, type JsonBodyLimits } from './json-body.ts';
import { dialectForPath, errorResponse } from './error-response.ts';
import type { SseLimits } from './sse.ts';
import { openAIRoutes, type OpenAIRouteDeps } from './routes-openai.ts';
import { tgiRoutes, type TgiRouteDeps } from './routes-tgi.ts';
import { statsRoutes, type StatsBody } from './routes-stats.ts';
import { bindRequestContext, requestLog } from '../observability/request-log.ts';
import { statusRoutes } from '../observability/status-routes.ts';
import type { StatusHistory } from '../observability/status-history.ts';

export interface AppDeps extends OpenAIRouteDeps, TgiRouteDeps {
  logger?: Logger;
  /** Body size, nesting depth and array length limits (json-body.ts has the defaults). */
  bodyLimits?: Partial<JsonBodyLimits>;
  /** Batching/KV counters for GET /stats; without it the route is absent. */
  stats?: () => StatsBody;
  /** Status page data (GET /, /status); without it those routes are absent. */
  status?: StatusHistory;
  /** Put prompt and output text into the request log lines (--log-prompts). Default false. */
  logPrompts?: boolean;
  /** Bytes a stream may queue for a client that stopped reading before it is cut (--sse-max-buffered-bytes). */
  sseMaxBufferedBytes?: number;
  /** CORS and API-key middleware (access-guards.ts), run before anything reads the body. */
  guards?: RequestHandler[];
  /** True once shutdown began: every route but the probes answers 503. */
  draining?: () => boolean;
  /** Parses a large JSON body off the event loop (the encoder pool); without it express.json parses every body. */
  parseJson?: (body: Uint8Array) => Promise<unknown>;
}

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

/** tessera_requests_rejected_total reason per edge error code (route-level 4xx are not edge rejections). */
const REJECT_REASON: Partial<Record<ErrorCode, string>> = {
  unauthorized: 'unauthorized',
  payload_too_large: 'payload_too_large',
  unsupported_media_type: 'unsupported_media_type',
  bad_request: 'bad_body',
};

function renderErrors(deps: AppDeps): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let routerError = toRouterError(err);
    const requestId = String(res.getHeader('x-request-id') ?? '');
    if (routerError.code === 'internal') {
      // The client gets the request id, never the internal message (it may name files or internals).
      deps.logger?.error({ err, requestId, method: req.method, path: req.path }, 'unhandled error');
      routerError = new RouterError('internal', `internal error; request id ${requestId}`);
    }
    const reason = REJECT_REASON[routerError.code];
    if (reason !== undefined) deps.metrics.rejected.inc({ reason });
    if (res.headersSent) {
      res.end();
      return;
    }
    const { status, body } = errorResponse(routerError, dialectForPath(req.path));
    res.status(status).json(body);
  };
}

function slowReaderCutoff(deps: AppDeps): SseLimits | undefined {
  if (deps.sseMaxBufferedBytes === undefined) return undefined;
  return {
    maxBufferedBytes: deps.sseMaxBufferedBytes,
    onSlowReader: (res, bufferedBytes) => {
      deps.metrics.rejected.inc({ reason: 'slow_reader' });
      deps.logger?.warn({ requestId: res.getHeader('x-request-id'), bufferedBytes }, 'stream client stopped reading: disconnected, generation cancelled');
    },
  };
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(requestId);
  app.use(requestLog(deps.logger, deps.logPrompts ?? false));
  app.use(countRequests(deps));
  for (const guard of deps.guards ?? []) app.use(guard);
  if (deps.draining !== undefined) app.use(refuseWhileDraining(deps.draining));
  app.use(jsonBody({ ...DEFAULT_JSON_BODY_LIMITS, ...deps.bodyLimits }, deps.parseJson));
  app.use(bindRequestContext);
  if (deps.status !== undefined) app.use(statusRoutes({ status: deps.status }));

  if (deps.stats !== undefined) app.use(statsRoutes({ stats: deps.stats }));
  const routeDeps = { ...deps, sse: slowReaderCutoff(deps) };
  app.use(openAIRoutes(routeDeps));
  app.use(tgiRoutes(routeDeps));

  app.use((req, _res, next) => next(new RouterError('not_found', `no route for ${req.method} ${req.path}`)));
  app.use(renderErrors(deps));
  return app;
}
