// @module One structured log line per HTTP request at completion: id, route, status, timings, token counts.
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { requestContext, type RequestRecord } from './request-context.ts';

/** Routes polled by probes and dashboards: logged at debug, not info, so they do not drown the log. */
const QUIET_PATHS = new Set(['/health', '/live', '/metrics', '/status']);

/**
 * Creates the request's RequestRecord (see request-context.ts; bindRequestContext enters it) and logs
 * it once the response finished or the client went away. Prompt and output text appear only with --log-prompts.
 * Must come after the x-request-id middleware.
 */
export function requestLog(logger: Logger | undefined, logPrompts: boolean): RequestHandler {
  return (req, res, next) => {
    if (logger === undefined) return next();
    const started = performance.now();
    const record: RequestRecord = { requestId: String(res.getHeader('x-request-id') ?? ''), logPrompts };
    let logged = false;
    const log = (aborted: boolean) => {
      if (logged) return;
      logged = true;
      const route = (req.route as { path?: string } | undefined)?.path ?? null;
      const line = {
        requestId: record.requestId,
        method: req.method,
        path: req.path,
        route,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(aborted ? { aborted: true } : {}),
        ...record.generation,
      };
      if (res.statusCode >= 500) logger.warn(line, 'request failed');
      else if (QUIET_PATHS.has(req.path) || (req.method === 'GET' && req.path === '/')) logger.debug(line, 'request');
      else logger.info(line, 'request');
    };
    res.once('finish', () => log(false));
    // The client went away: the cancellation reaches Infer on the same 'close' event, so log a tick later.
    res.once('close', () => setImmediate(() => log(!res.writableFinished)));
    res.locals.requestRecord = record;
    next();
  };
}

/**
 * Enters the request's RequestRecord for the rest of the chain. Separate from requestLog because it
 * must come after the body parser: the parser resumes the chain from stream events, which do not
 * carry the AsyncLocalStorage context.
 */
export const bindRequestContext: RequestHandler = (_req, res, next) => {
  const record = res.locals.requestRecord as RequestRecord | undefined;
  if (record === undefined) return next();
  requestContext.run(record, next);
};
