// @module The router's HTTP-edge flags (timeouts, connection cap, stream buffer, API key, CORS): spec, defaults, parsing.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from './errors.ts';
import type { EDGE_OPTIONS } from './router-options.ts';

export interface EdgeOptions {
  /** Time a client has to send the request line and headers (slowloris). Default 20 s. */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request, body included; 0 = none. Default 120 s. Responses are not limited. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. Default 5 s (keep it above a load balancer's idle timeout). */
  keepAliveTimeoutMs: number;
  /** Open connections beyond which new ones are closed at once. Default 2048. */
  maxConnections: number;
  /** Bytes an SSE stream may have queued for a client that does not read before it is cut and its generation cancelled. Default 1 MiB. */
  sseMaxBufferedBytes: number;
  /** Required as `Authorization: Bearer KEY` or `x-api-key: KEY` (--api-key, TESSERA_API_KEY or --api-key-file). Default none. */
  apiKey: string | null;
  /** GET/HEAD paths answered without the API key. Default /health, /live, /metrics. */
  publicPaths: string[];
  /** Origins allowed to call the API from a browser (CORS); '*' for any. Default none: no CORS headers. */
  corsAllowOrigins: string[];
}

export const EDGE_DEFAULTS: EdgeOptions = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 2048,
  sseMaxBufferedBytes: 1 << 20,
  apiKey: null,
  publicPaths: ['/health', '/live', '/metrics'],
  corsAllowOrigins: [],
};

function seconds(name: string, raw: string | undefined, fallbackMs: number, allowZero: boolean): number {
  if (raw === undefined) return fallbackMs;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new InvalidArgumentError(`--${name} must be a number of seconds ${allowZero ? '≥ 0' : '> 0'}, got '${raw}'`);
  }
  return Math.round(v * 1000);
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`--${name} must be an integer ≥ 1, got '${raw}'`);
  return v;
}

const list = (raw: string) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function apiKeyOf(key: string | undefined, file: string | undefined): string | null {
  if (key !== undefined && file !== undefined) throw new InvalidArgumentError('give --api-key or --api-key-file, not both');
  let value = key;
  if (file !== undefined) {
    try {
      // Secret files often end in a newline (echo KEY > file); it is not part of the key.
      value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new InvalidArgumentError(`--api-key-file: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (value === undefined) return null;
  if (value.trim() === '') throw new InvalidArgumentError(`${file !== undefined ? '--api-key-file' : '--api-key'} is empty`);
  return value;
}

/** Parses the edge flags out of the router's parsed argv values. Throws InvalidArgumentError. */
export function parseEdgeOptions(values: Record<string, string | boolean | undefined>): EdgeOptions {
  const str = (k: keyof typeof EDGE_OPTIONS) => values[k] as string | undefined;
  const headersTimeoutMs = seconds('headers-timeout', str('headers-timeout'), EDGE_DEFAULTS.headersTimeoutMs, false);
  const requestTimeoutMs = seconds('request-timeout', str('request-timeout'), EDGE_DEFAULTS.requestTimeoutMs, true);
  // Node refuses a header timeout longer than the whole-request timeout.
  if (requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) {
    throw new InvalidArgumentError(`--headers-timeout (${headersTimeoutMs / 1000} s) must be ≤ --request-timeout (${requestTimeoutMs / 1000} s)`);
  }
  const publicPaths = str('public-paths') === undefined ? EDGE_DEFAULTS.publicPaths : list(str('public-paths')!);
  const bad = publicPaths.find((p) => !p.startsWith('/'));
  if (bad !== undefined) throw new InvalidArgumentError(`--public-paths entries must be paths starting with '/', got '${bad}'`);
  const origins = str('cors-allow-origin') === undefined ? [] : list(str('cors-allow-origin')!).map((o) => o.replace(/\/+$/, ''));
  const badOrigin = origins.find((o) => o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o));
  if (badOrigin !== undefined) throw new InvalidArgumentError(`--cors-allow-origin entries must be '*' or scheme://host[:port], got '${badOrigin}'`);
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: seconds('keep-alive-timeout', str('keep-alive-timeout'), EDGE_DEFAULTS.keepAliveTimeoutMs, false),
    maxConnections: positiveInt('max-connections', str('max-connections'), EDGE_DEFAULTS.maxConnections),
    sseMaxBufferedBytes: positiveInt('sse-max-buffered-bytes', str('sse-max-buffered-bytes'), EDGE_DEFAULTS.sseMaxBufferedBytes),
    apiKey: apiKeyOf(str('api-key'), str('api-key-file')),
    publicPaths,
    corsAllowOrigins: origins,
  };
}
