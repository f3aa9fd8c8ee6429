// @module The HTTP app served while the router warms up: probes, metrics and the status page answer; the rest is 503.
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import type { RouterMetrics } from '../metrics.ts';
import { RouterError } from '../errors.ts';
import { dialectForPath, errorResponse } from '../http/error-response.ts';
import type { HealthMonitor } from './health.ts';
import type { StatusHistory } from './status-history.ts';
import { statusRoutes } from './status-routes.ts';

export interface StartingAppDeps {
  health: HealthMonitor;
  metrics: RouterMetrics;
  status: StatusHistory;
  /** CORS and API-key middleware: the warming-up router guards its routes as the serving one does. */
  guards?: RequestHandler[];
}

export function startingApp(deps: StartingAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    const given = req.get('x-request-id');
    res.setHeader('x-request-id', given !== undefined && given.length > 0 && given.length <= 200 ? given : randomUUID());
    next();
  });
  for (const guard of deps.guards ?? []) app.use(guard);
  app.use(statusRoutes({ status: deps.status }));
  app.get('/health', async (_req, res) => {
    const h = await deps.health.check();
    res.status(503).json({ error: h.ok ? 'warming up' : h.reason, error_type: 'unhealthy' });
  });
  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await deps.metrics.render();
    res.type(contentType).send(body);
  });
  app.use((req, res) => {
    const { status, body } = errorResponse(new RouterError('unavailable', `the router is ${deps.health.phase}`), dialectForPath(req.path));
    res.status(status).json(body);
  });
  return app;
}
