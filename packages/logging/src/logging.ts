// @module The one logger factory of every Tessera process: JSON lines (pino), human-readable on a TTY.
import { pino, type Logger, type LoggerOptions } from 'pino';
import PinoPretty from 'pino-pretty';

export interface CreateLoggerOptions {
  /** `service` field of every line: 'router', 'shard', 'launcher'. */
  service: string;
  /** pino level. Default 'info'. */
  level?: string;
  /** More fields on every line (e.g. the shard's rank). */
  base?: Record<string, unknown>;
  /**
   * Pretty (colours, one readable line per record) instead of JSON. Default: when stdout is a TTY,
   * unless TESSERA_LOG_FORMAT=json; TESSERA_LOG_FORMAT=pretty forces it.
   */
  pretty?: boolean;
}

export function wantsPrettyLogs(env: NodeJS.ProcessEnv = process.env, isTTY = process.stdout.isTTY === true): boolean {
  if (env.TESSERA_LOG_FORMAT === 'json') return false;
  if (env.TESSERA_LOG_FORMAT === 'pretty') return true;
  return isTTY;
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: LoggerOptions = { level: opts.level ?? 'info', base: { service: opts.service, ...opts.base } };
  if (!(opts.pretty ?? wantsPrettyLogs())) return pino(options);
  // Synchronous, in-process: no worker thread to start or to flush at exit.
  const stream = PinoPretty({ colorize: true, sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' });
  return pino(options, stream);
}

export type { Logger };
