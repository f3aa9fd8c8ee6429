// @module @tessera/logging: structured pino logs for every service (JSON by default, pretty on a terminal).
export { createLogger, wantsPrettyLogs, type CreateLoggerOptions, type Logger } from './logging.ts';
