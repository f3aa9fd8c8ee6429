// @module Socket-level limits of the router's HTTP server: header/request/keep-alive timeouts and the connection cap.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { EdgeOptions } from '../edge-options.ts';
import type { RouterMetrics } from '../metrics.ts';

export type ServerLimits = Pick<EdgeOptions, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections'>;

/**
 * Node checks header and request timeouts only every connectionsCheckingInterval (30 s by default),
 * so a slow client could hold a socket for that much longer than the limit: check at a quarter of the
 * header timeout, at most every second.
 */
function checkingIntervalMs(limits: ServerLimits): number {
  return Math.max(25, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
}

/** An HTTP server with the limits applied. A dropped connection (over the cap) is counted and logged at debug. */
export function createLimitedServer(limits: ServerLimits, listener: RequestListener, metrics: RouterMetrics, logger?: Logger): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
    listener,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.on('drop', (data?: { remoteAddress?: string }) => {
    metrics.rejected.inc({ reason: 'max_connections' });
    logger?.debug({ remoteAddress: data?.remoteAddress, maxConnections: limits.maxConnections }, 'connection dropped: --max-connections reached');
  });
  return server;
}
