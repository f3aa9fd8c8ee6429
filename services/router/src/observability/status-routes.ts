// @module Operator routes: GET / (status page for browsers), GET /status (its JSON), GET /live (liveness probe).
import { readFileSync } from 'node:fs';
import { Router, type Request, type Response, type NextFunction } from 'express';
import type { StatusHistory } from './status-history.ts';

const PAGE = readFileSync(new URL('./status-page.html', import.meta.url), 'utf8');

export interface StatusRouteDeps {
  status: StatusHistory;
}

export function statusRoutes(deps: StatusRouteDeps): Router {
  const router = Router();

  // Liveness: the event loop answers. Cheap, touches no shard; stays 200 while warming up and draining.
  router.get('/live', (_req: Request, res: Response) => {
    res.status(200).json({ status: 'alive' });
  });

  // Only browsers (Accept: text/html) get the page; `POST /` stays TGI's generate.
  router.get('/', (req: Request, res: Response, next: NextFunction) => {
    if (req.accepts(['json', 'html']) !== 'html') return next();
    res.type('html').setHeader('cache-control', 'no-store');
    res.send(PAGE);
  });

  router.get('/status', (_req: Request, res: Response) => {
    res.setHeader('cache-control', 'no-store');
    res.json(deps.status.snapshot());
  });

  return router;
}
