// @module A service that cannot start (model missing or unreadable, port taken) says so in one line; the stack only at debug.
import type { Logger } from 'pino';

const DEBUG_LEVELS = new Set(['debug', 'trace']);

/**
 * Prints `tessera SERVICE: cannot start with MODEL: reason` on stderr and logs it at fatal. The
 * stack trace is for developers: it is logged only at --log-level debug or trace.
 */
export function reportStartFailure(service: string, model: string, err: unknown, logLevel: string, logger: Logger): void {
  const message = err instanceof Error ? err.message : String(err);
  const debug = DEBUG_LEVELS.has(logLevel);
  logger.fatal(debug ? { err, model } : { reason: message, model }, `${service} failed to start`);
  console.error(`tessera ${service}: cannot start with ${model}: ${message.split('\n')[0]}`);
}
