// @module Tests: CLI parsing and token-limit resolution before and after warmup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limitsAfterWarmup, limitsBeforeWarmup, parseRouterArgs } from './config.ts';
import { InvalidArgumentError } from './errors.ts';

const base = ['--model-id', '/models/llama/', '--shard-uris', 'a:1,b:2'];

test('defaults are resolved once, with the served name from the model path', () => {
  const o = parseRouterArgs(base);
  assert.deepEqual(o.shardUris, ['a:1', 'b:2']);
  assert.equal(o.port, 8080);
  assert.equal(o.hostname, '127.0.0.1');
  assert.equal(o.servedModelName, 'llama');
  assert.equal(o.maxConcurrentRequests, 128);
  assert.equal(o.waitingServedRatio, 0.3);
  assert.equal(o.maxWaitingTokens, 20);
  assert.equal(o.maxTotalTokens, null);
  assert.equal(o.prefixCaching, true);
  assert.equal(o.shardConnectTimeoutSeconds, 120);
});

test('flags override defaults; --port 0 is allowed', () => {
  const o = parseRouterArgs([...base, '--port', '0', '--served-model-name', 'm', '--max-total-tokens', '256', '--disable-prefix-caching']);
  assert.equal(o.port, 0);
  assert.equal(o.servedModelName, 'm');
  assert.equal(o.maxTotalTokens, 256);
  assert.equal(o.prefixCaching, false);
  assert.equal(parseRouterArgs([...base, '--shard-connect-timeout', '600']).shardConnectTimeoutSeconds, 600);
  assert.throws(() => parseRouterArgs([...base, '--shard-connect-timeout', '0']), /shard-connect-timeout/);
});

test('bad or missing options throw InvalidArgumentError naming the flag', () => {
  assert.throws(() => parseRouterArgs(['--shard-uris', 'a:1']), /--model-id is required/);
  assert.throws(() => parseRouterArgs(['--model-id', 'x']), /--shard-uris is required/);
  assert.throws(
    () => parseRouterArgs([...base, '--port', 'abc']),
    (e: unknown) => e instanceof InvalidArgumentError && /--port/.test((e as Error).message),
  );
  assert.throws(() => parseRouterArgs([...base, '--max-batch-size', '0']), /--max-batch-size must be an integer ≥ 1/);
  assert.throws(() => parseRouterArgs([...base, '--bogus']), InvalidArgumentError);
});

test('limits default from the model context and are capped by the KV capacity after warmup', () => {
  const o = parseRouterArgs(base);
  const before = limitsBeforeWarmup(o, 2048);
  assert.equal(before.maxTotalTokens, 2048);
  assert.equal(before.maxInputTokens, 2047);
  assert.equal(before.maxBatchPrefillTokens, 4096);
  const after = limitsAfterWarmup(o, before, 1024);
  assert.equal(after.maxBatchTotalTokens, 1024);
  assert.equal(after.maxTotalTokens, 1024);
  assert.equal(after.maxInputTokens, 1023);
  assert.equal(after.maxBatchPrefillTokens, 1024);
});

test('inconsistent explicit limits are refused', () => {
  assert.throws(() => limitsBeforeWarmup(parseRouterArgs([...base, '--max-input-tokens', '100', '--max-total-tokens', '100']), 2048), /must be </);
  assert.throws(() => limitsBeforeWarmup(parseRouterArgs([...base, '--max-total-tokens', '4096']), 2048), /exceeds the model's context/);
  const o = parseRouterArgs([...base, '--max-total-tokens', '1024']);
  assert.throws(() => limitsAfterWarmup(o, limitsBeforeWarmup(o, 2048), 512), /exceeds the batch capacity/);
});
