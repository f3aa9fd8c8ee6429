// @module Tests: overload (429), client disconnects (stream and not) freeing shard state, shard failures (424 / error events).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startTestRouter, type TestRouter } from '../testing/router-harness.ts';
import { postJson, postSse } from '../testing/sse-client.ts';

let t: TestRouter;
before(async () => {
  t = await startTestRouter({ shard: { stepDelayMs: 10 }, args: ['--max-concurrent-requests', '2'] });
});
after(async () => {
  await t.close();
});

async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const inFlight = async () => {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  return Number(/^tessera_requests_in_flight(?:{[^}]*})? (\d+)/m.exec(text)?.[1] ?? NaN);
};

test('over max_concurrent_requests: 429 in TGI and OpenAI formats; the admitted ones complete', async () => {
  const body = { inputs: 'Hello a', parameters: { max_new_tokens: 5 } };
  const admitted = [postJson(`${t.url}/generate`, body), postJson(`${t.url}/generate`, body)];
  await eventually(async () => (await inFlight()) === 2);
  const rejected = await postJson(`${t.url}/generate`, body);
  assert.equal(rejected.status, 429);
  assert.deepEqual(rejected.body, { error: 'Model is overloaded', error_type: 'overloaded' });
  const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'none', maxRetries: 0 });
  await assert.rejects(client.completions.create({ model: 'x', prompt: 'Hello a', max_tokens: 2 }), (err: any) => {
    assert.equal(err.status, 429);
    assert.equal(err.error.type, 'overloaded_error');
    return true;
  });
  for (const r of await Promise.all(admitted)) assert.equal(r.body.generated_text, 'bcdef');
});

test('a client that disconnects mid-stream cancels its request: the shard drops it, the slot frees', async () => {
  const controller = new AbortController();
  const res = await fetch(`${t.url}/generate_stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: 'Hello a', parameters: { max_new_tokens: 500 } }),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  await reader.read(); // the first event arrived: generation is running
  controller.abort();
  await eventually(() => t.shard.liveRequestIds().length === 0);
  await eventually(async () => (await inFlight()) === 0);
  const decodes = t.shard.calls.filter((c) => c.method === 'decode').length;
  assert.ok(decodes < 100, `generation stopped early (${decodes} decode steps)`);
});

test('a non-streamed request whose client disconnects is cancelled too', async () => {
  const controller = new AbortController();
  const pending = fetch(`${t.url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: 'Hello a', parameters: { max_new_tokens: 500 } }),
    signal: controller.signal,
  }).catch(() => 'aborted');
  await eventually(() => t.shard.liveRequestIds().length === 1);
  controller.abort();
  assert.equal(await pending, 'aborted');
  await eventually(() => t.shard.liveRequestIds().length === 0);
  await eventually(async () => (await inFlight()) === 0);
});

test('a shard failure: /generate answers 424, a stream ends with an error event, the router recovers', async () => {
  const body = { inputs: 'Hello a', parameters: { max_new_tokens: 20 } };
  const plain = postJson(`${t.url}/generate`, body);
  const stream = postSse(`${t.url}/generate_stream`, body);
  await eventually(() => t.shard.liveRequestIds().length === 2);
  t.shard.failNext = { method: 'decode', message: 'device lost' };
  const [p, s] = await Promise.all([plain, stream]);
  assert.equal(p.status, 424);
  assert.equal(p.body.error_type, 'generation');
  assert.match(p.body.error, /device lost/);
  const last = JSON.parse(s.data.at(-1)!);
  assert.deepEqual(Object.keys(last), ['error', 'error_type']);
  assert.equal(last.error_type, 'generation');
  assert.match(last.error, /device lost/);
  const ok = await postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 2 } });
  assert.equal(ok.body.generated_text, 'bc');
});

test('an OpenAI stream that fails mid-way sends an error object and still [DONE]', async () => {
  const s = postSse(`${t.url}/v1/completions`, { model: 'x', prompt: 'Hello a', max_tokens: 20, stream: true });
  await eventually(() => t.shard.liveRequestIds().length === 1);
  t.shard.failNext = { method: 'decode', message: 'boom' };
  const r = await s;
  assert.equal(r.data.at(-1), '[DONE]');
  const err = JSON.parse(r.data.at(-2)!);
  assert.equal(err.error.type, 'server_error');
  assert.match(err.error.message, /boom/);
});
