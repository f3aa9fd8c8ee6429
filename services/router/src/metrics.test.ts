// @module Tests: the router's /metrics after real traffic through a scripted shard: histograms, KV, prefix cache, shard health.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRouter, type TestRouter } from './testing/router-harness.ts';
import { postJson, postSse } from './testing/sse-client.ts';

let t: TestRouter;
before(async () => {
  t = await startTestRouter({ shard: { stepDelayMs: 2 } });
});
after(async () => {
  await t.close();
});

/** Value of one sample line of the exposition text (labels given as a literal `{…}` substring). */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(name) && l.slice(name.length).startsWith('{') && l.includes(labels));
  assert.ok(line !== undefined, `${name}${labels} missing in:\n${text}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('after traffic: every latency histogram and token counter moved, with the model label', async () => {
  const prompt = 'Hello a'.repeat(8); // a few full KV blocks, so the second request can hit the prefix cache
  for (let i = 0; i < 2; i++) {
    const r = await postJson(`${t.url}/generate`, { inputs: prompt, parameters: { max_new_tokens: 6 } });
    assert.equal(r.status, 200);
  }
  const s = await postSse(`${t.url}/generate_stream`, { inputs: 'Hello a', parameters: { max_new_tokens: 4 } });
  assert.equal(s.status, 200);
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const m = 'model="test-model"';
  assert.equal(sample(text, 'tessera_request_duration_seconds_count', m), 3);
  assert.equal(sample(text, 'tessera_request_queue_duration_seconds_count', m), 3);
  assert.equal(sample(text, 'tessera_time_to_first_token_seconds_count', m), 3);
  assert.equal(sample(text, 'tessera_time_per_output_token_seconds_count', m), 3);
  // 6 + 6 + 4 tokens, the first of each is a TTFT, not an inter-token gap.
  assert.equal(sample(text, 'tessera_inter_token_latency_seconds_count', m), 5 + 5 + 3);
  assert.equal(sample(text, 'tessera_generated_tokens_total', m), 16);
  assert.ok(sample(text, 'tessera_input_tokens_total', m) > 2 * 8);
  assert.equal(sample(text, 'tessera_batch_step_duration_seconds_count', 'method="prefill"'), 3);
  assert.ok(sample(text, 'tessera_batch_step_duration_seconds_count', 'method="decode"') >= 13);
  assert.equal(sample(text, 'tessera_shard_forward_duration_seconds_count', 'method="prefill"'), 3);
  assert.equal(sample(text, 'tessera_batch_step_size_count', 'method="prefill"'), 3);
  assert.equal(sample(text, 'tessera_batch_step_size_sum', 'method="prefill"'), 3, 'one request per prefill');
  assert.ok(sample(text, 'tessera_batch_step_computed_tokens_sum', 'method="prefill"') > 8);
  assert.equal(sample(text, 'tessera_http_requests_total', 'route="/generate",status="200"'), 2);
  assert.equal(sample(text, 'tessera_request_finished_total', 'outcome="length"'), 3);
  // KV: 64 blocks of 16 (scripted shard defaults); nothing runs now; the repeated prompt hit the cache.
  assert.equal(sample(text, 'tessera_kv_cache_capacity_tokens', m), 64 * 16);
  assert.equal(sample(text, 'tessera_kv_cache_usage_ratio', m), 0);
  assert.equal(sample(text, 'tessera_kv_blocks', 'state="used"'), 0);
  assert.equal(sample(text, 'tessera_prefix_cache_queries_total', m), 3);
  assert.ok(sample(text, 'tessera_prefix_cache_hits_total', m) >= 1);
  assert.equal(sample(text, 'tessera_shard_up', 'shard="127.0.0.1:'), 1);
  assert.equal(sample(text, 'tessera_ready', m), 1);
  assert.ok(sample(text, 'process_cpu_seconds_total', m) > 0, 'default process metrics, unprefixed');
  assert.doesNotMatch(text, /^tessera_router_/m);
  assert.ok(sample(text, 'tessera_prefill_tokens_total', 'kind="computed"') > 0);
  assert.match(text, /# TYPE tessera_prefill_tokens_total counter/);
  assert.match(text, /# TYPE tessera_http_requests_total counter/);
});

test("TGI families: the same traffic in tgi_* names, types and labels (as TGI's router writes them)", async () => {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const m = 'model="test-model"';
  for (const [name, type] of [
    ['tgi_request_count', 'counter'],
    ['tgi_request_success', 'counter'],
    ['tgi_request_duration', 'histogram'],
    ['tgi_queue_size', 'gauge'],
    ['tgi_batch_current_size', 'gauge'],
    ['tgi_batch_current_max_tokens', 'gauge'],
    ['tgi_batch_inference_duration', 'histogram'],
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
  }
  // The three requests of the first test.
  assert.equal(sample(text, 'tgi_request_count', m), 3);
  assert.equal(sample(text, 'tgi_request_success', m), 3);
  for (const h of [
    'tgi_request_duration',
    'tgi_request_queue_duration',
    'tgi_request_inference_duration',
    'tgi_request_mean_time_per_token_duration',
    'tgi_request_input_length',
    'tgi_request_generated_tokens',
  ]) {
    assert.equal(sample(text, `${h}_count`, m), 3, h);
  }
  assert.equal(sample(text, 'tgi_request_generated_tokens_sum', m), 16);
  assert.equal(sample(text, 'tgi_batch_inference_count', 'method="prefill"'), 3);
  assert.ok(sample(text, 'tgi_batch_inference_duration_count', 'method="decode"') >= 13);
  assert.equal(sample(text, 'tgi_batch_forward_duration_count', 'method="prefill"'), 3);
  assert.equal(sample(text, 'tgi_queue_size', m), 0);
  assert.equal(sample(text, 'tgi_batch_current_size', m), 0);
});

test('a failing shard health check shows in tessera_shard_up and tessera_ready', async () => {
  // Until cleared, not once: the router's background probe (every second) may call Health in between.
  t.shard.failAlways = { method: 'health', message: 'sick' };
  assert.equal((await fetch(`${t.url}/health`)).status, 503);
  let text = await (await fetch(`${t.url}/metrics`)).text();
  assert.equal(sample(text, 'tessera_shard_up'), 0);
  assert.equal(sample(text, 'tessera_ready'), 0);
  t.shard.failAlways = null;
  assert.equal((await fetch(`${t.url}/health`)).status, 200);
  text = await (await fetch(`${t.url}/metrics`)).text();
  assert.equal(sample(text, 'tessera_shard_up'), 1);
  assert.equal(sample(text, 'tessera_ready'), 1);
});
