// @module Tests: TGI routes over a whole router + scripted shard — exact JSON and SSE shapes, errors, disconnects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRouter, type TestRouter } from '../testing/router-harness.ts';
import { postJson, postSse } from '../testing/sse-client.ts';

let t: TestRouter;
before(async () => {
  t = await startTestRouter();
});
after(async () => {
  await t.close();
});

// "Hello a" → [1, 303, 259, 260]; the toy model continues b=261, c=262, d=263, e=264, f=265 …
const tok = (id: number, text: string) => ({ id, text, logprob: -0.25, special: false });

test('POST /generate returns generated_text, and details with tokens when asked', async () => {
  const plain = await postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 5 } });
  assert.equal(plain.status, 200);
  assert.deepEqual(plain.body, { generated_text: 'bcdef' });
  const detailed = await postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 3, details: true } });
  assert.deepEqual(detailed.body, {
    generated_text: 'bcd',
    details: { finish_reason: 'length', generated_tokens: 3, seed: null, prefill: [], tokens: [tok(261, 'b'), tok(262, 'c'), tok(263, 'd')] },
  });
});

test('stop sequences end generation across token boundaries and are not returned', async () => {
  const r = await postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 10, stop: ['de'], details: true } });
  assert.equal(r.body.generated_text, 'bc');
  assert.equal(r.body.details.finish_reason, 'stop_sequence');
  assert.equal(r.body.details.generated_tokens, 4);
});

test('EOS ends with finish_reason eos_token; the special token is listed but not in the text', async () => {
  const r = await postJson(`${t.url}/generate`, { inputs: 'Hello ld', parameters: { max_new_tokens: 10, details: true } });
  // "ld"=304 → <unk>=0, <s>=1, </s>=2 (EOS).
  assert.equal(r.body.details.finish_reason, 'eos_token');
  assert.deepEqual(
    r.body.details.tokens.map((x: { id: number }) => x.id),
    [0, 1, 2],
  );
  assert.equal(r.body.details.tokens[2].special, true);
  assert.equal(r.body.generated_text, '');
});

test('sampling reports its seed; top_n_tokens adds top_tokens', async () => {
  const r = await postJson(`${t.url}/generate`, {
    inputs: 'Hello a',
    parameters: { max_new_tokens: 2, do_sample: true, seed: 7, top_n_tokens: 2, details: true },
  });
  assert.equal(r.body.details.seed, 7);
  assert.deepEqual(r.body.details.top_tokens[0], [tok(261, 'b'), { ...tok(262, 'c'), logprob: -1.25 }]);
});

test('POST /generate_stream: TGI SSE frames, 1-based index, final event carries generated_text and details', async () => {
  const r = await postSse(`${t.url}/generate_stream`, { inputs: 'Hello a', parameters: { max_new_tokens: 3 } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.ok(r.raw.startsWith('data:{'), 'no space after data: (TGI framing)');
  const events = r.data.map((d) => JSON.parse(d));
  assert.deepEqual(events, [
    { index: 1, token: tok(261, 'b'), generated_text: null, details: null },
    { index: 2, token: tok(262, 'c'), generated_text: null, details: null },
    { index: 3, token: tok(263, 'd'), generated_text: 'bcd', details: { finish_reason: 'length', generated_tokens: 3, seed: null, input_length: 4 } },
  ]);
});

test('POST / follows `stream`: an array of one result, or the SSE stream', async () => {
  const r = await postJson(`${t.url}/`, { inputs: 'Hello a', parameters: { max_new_tokens: 2 }, stream: false });
  assert.deepEqual(r.body, [{ generated_text: 'bc' }]);
  const s = await postSse(`${t.url}/`, { inputs: 'Hello a', parameters: { max_new_tokens: 2 }, stream: true });
  assert.equal(JSON.parse(s.data.at(-1)!).generated_text, 'bc');
});

test('validation errors are 422 {error, error_type:"validation"} naming the field', async () => {
  const r = await postJson(`${t.url}/generate`, { inputs: 'Hello', parameters: { temperature: -1 } });
  assert.equal(r.status, 422);
  assert.equal(r.body.error_type, 'validation');
  assert.match(r.body.error, /`temperature` must be a number ≥ 0/);
  const long = await postJson(`${t.url}/generate`, { inputs: 'Hello', parameters: { max_new_tokens: 5000 } });
  assert.equal(long.status, 422);
  assert.match(long.body.error, /max_total_tokens/);
  const missing = await postJson(`${t.url}/generate`, { parameters: {} });
  assert.equal(missing.status, 422);
  assert.match(missing.body.error, /inputs/);
});

test('malformed JSON is 422 in TGI format; an unknown route is a JSON 404', async () => {
  const bad = await postJson(`${t.url}/generate`, '{"inputs": ');
  assert.equal(bad.status, 422);
  assert.equal(bad.body.error_type, 'validation');
  assert.match(bad.body.error, /not valid JSON/);
  const nf = await fetch(`${t.url}/nope`);
  assert.equal(nf.status, 404);
  assert.equal((await nf.json()).error_type, 'not_found');
});

test('x-request-id is echoed, or generated when absent', async () => {
  const echoed = await postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 1 } }, { 'x-request-id': 'abc-123' });
  assert.equal(echoed.headers.get('x-request-id'), 'abc-123');
  const made = await fetch(`${t.url}/info`);
  assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('GET /info, /health, /metrics and POST /tokenize', async () => {
  const info = await (await fetch(`${t.url}/info`)).json();
  assert.equal(info.router, 'tessera');
  assert.equal(info.model_id, 'synthetic');
  assert.equal(info.max_total_tokens, 1024);
  assert.equal(info.max_input_tokens, 1023);
  assert.equal(info.max_batch_total_tokens, 1024);
  for (const k of [
    'model_dtype',
    'model_device_type',
    'max_concurrent_requests',
    'max_batch_prefill_tokens',
    'waiting_served_ratio',
    'max_waiting_tokens',
    'max_client_batch_size',
    'speculate',
    'version',
    'sha',
    'docker_label',
  ]) {
    assert.ok(k in info, k);
  }
  assert.equal((await fetch(`${t.url}/health`)).status, 200);
  t.shard.failAlways = { method: 'health', message: 'sick' }; // the background probe may call Health too
  const sick = await fetch(`${t.url}/health`);
  assert.equal(sick.status, 503);
  assert.match((await sick.json()).error, /sick/);
  t.shard.failAlways = null;
  const metrics = await (await fetch(`${t.url}/metrics`)).text();
  assert.match(metrics, /tessera_http_requests_total\{route="\/generate",status="200",model="test-model"\}/);
  const tokens = await postJson(`${t.url}/tokenize`, { inputs: 'Hello world' });
  assert.deepEqual(tokens.body, [
    { id: 1, text: '', start: 0, stop: 0 },
    { id: 303, text: 'Hello', start: 0, stop: 5 },
    { id: 299, text: ' wor', start: 5, stop: 9 },
    { id: 304, text: 'ld', start: 9, stop: 11 },
  ]);
});
