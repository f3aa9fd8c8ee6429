// @module Tests: parsing the HTTP-edge flags (API key and key file, public paths, CORS origins, timeouts, limits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRouterArgs } from './config.ts';
import { EDGE_DEFAULTS } from './edge-options.ts';
import { InvalidArgumentError } from './errors.ts';

const KEY = 'sk-test-edge-0123456789';

test('defaults: no key, no CORS, probe paths public, bounded timeouts and buffers', () => {
  const o = parseRouterArgs(['--model-id', 'm', '--shard-uris', 'a:1']);
  assert.deepEqual(
    {
      headersTimeoutMs: o.headersTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs,
      maxConnections: o.maxConnections,
      sseMaxBufferedBytes: o.sseMaxBufferedBytes,
      apiKey: o.apiKey,
      publicPaths: o.publicPaths,
      corsAllowOrigins: o.corsAllowOrigins,
    },
    EDGE_DEFAULTS,
  );
});

test('--api-key-file (trailing newline dropped), --public-paths, and bad combinations', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-key-'));
  const file = path.join(dir, 'key');
  writeFileSync(file, `${KEY}\n`);
  const base = ['--model-id', 'm', '--shard-uris', 'a:1'];
  assert.equal(parseRouterArgs([...base, '--api-key-file', file]).apiKey, KEY);
  assert.equal(parseRouterArgs(base).apiKey, null);
  assert.deepEqual(parseRouterArgs(base).publicPaths, ['/health', '/live', '/metrics']);
  assert.deepEqual(parseRouterArgs([...base, '--public-paths', '/health,/live,/metrics,/,/status']).publicPaths, [
    '/health',
    '/live',
    '/metrics',
    '/',
    '/status',
  ]);
  assert.throws(() => parseRouterArgs([...base, '--api-key', 'a', '--api-key-file', file]), InvalidArgumentError);
  assert.throws(() => parseRouterArgs([...base, '--api-key-file', path.join(dir, 'missing')]), /cannot read/);
  assert.throws(() => parseRouterArgs([...base, '--api-key', '  ']), /empty/);
  assert.throws(() => parseRouterArgs([...base, '--cors-allow-origin', 'example.com']), /scheme/);
  assert.throws(() => parseRouterArgs([...base, '--headers-timeout', '30', '--request-timeout', '10']), /headers-timeout/);
  assert.throws(() => parseRouterArgs([...base, '--max-connections', '0']), /max-connections/);
  const o = parseRouterArgs([...base, '--headers-timeout', '0.5', '--keep-alive-timeout', '65', '--sse-max-buffered-bytes', '4096']);
  assert.equal(o.headersTimeoutMs, 500);
  assert.equal(o.keepAliveTimeoutMs, 65_000);
  assert.equal(o.sseMaxBufferedBytes, 4096);
});
