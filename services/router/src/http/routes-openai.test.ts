// @module Tests: OpenAI routes through the official `openai` client and raw SSE — exact shapes, errors, UTF-8 safety.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startTestRouter, type TestRouter } from '../testing/router-harness.ts';
import { postJson, postSse } from '../testing/sse-client.ts';

let t: TestRouter;
let client: OpenAI;
before(async () => {
  // "日" spelled with byte tokens (E6 97 A5 → ids 233 154 168) after a prompt ending in "é" (289).
  const utf8 = [233, 154, 168];
  t = await startTestRouter({
    shard: {
      next: (c) => {
        const last = c[c.length - 1]!;
        if (last === 289) return utf8[0]!;
        const i = utf8.indexOf(last);
        if (i >= 0) return i + 1 < utf8.length ? utf8[i + 1]! : 260;
        return (last + 1) % 305;
      },
    },
  });
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await t.close();
});

const FINGERPRINT = /^tessera-/;

test('chat completion: exact non-streamed shape, echoing the served model name', async () => {
  const r = await client.chat.completions.create({ model: 'anything', messages: [{ role: 'user', content: 'Hello a' }], max_tokens: 5, temperature: 0 });
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.object, 'chat.completion');
  assert.equal(typeof r.created, 'number');
  assert.equal(r.model, 'test-model');
  assert.match(r.system_fingerprint ?? '', FINGERPRINT);
  assert.deepEqual(r.choices, [{ index: 0, message: { role: 'assistant', content: 'bcdef' }, logprobs: null, finish_reason: 'length' }]);
  assert.deepEqual(r.usage, { prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 });
});

test('chat stream: role chunk, content deltas, finish chunk, usage chunk, then [DONE]', async () => {
  const stream = await client.chat.completions.create({
    model: 'x',
    messages: [{ role: 'user', content: 'Hello a' }],
    max_tokens: 3,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'test-model' && c.id === chunks[0]!.id));
  assert.deepEqual(
    chunks.map((c) => c.choices[0]?.delta ?? null),
    [{ role: 'assistant', content: '' }, { content: 'b' }, { content: 'c' }, { content: 'd' }, {}, null],
  );
  assert.deepEqual(
    chunks.map((c) => (c.choices.length > 0 ? c.choices[0]!.finish_reason : 'none')),
    [null, null, null, null, 'length', 'none'],
  );
  assert.deepEqual(chunks.at(-1)!.choices, []);
  assert.deepEqual(chunks.at(-1)!.usage, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
  assert.equal(chunks[0]!.usage, null);
});

test('raw SSE framing on OpenAI routes: "data: " with a space, blank-line separated, ending with [DONE]', async () => {
  const r = await postSse(`${t.url}/v1/chat/completions`, {
    model: 'x',
    messages: [{ role: 'user', content: 'Hello a' }],
    max_tokens: 2,
    stream: true,
    temperature: 0,
  });
  assert.equal(r.status, 200);
  assert.ok(
    r.raw
      .split('\n\n')
      .filter(Boolean)
      .every((f) => f.startsWith('data: ')),
  );
  assert.ok(r.raw.endsWith('data: [DONE]\n\n'));
  assert.equal(JSON.parse(r.data.at(-2)!).choices[0].finish_reason, 'length');
});

test('chat: a stop string ends with finish_reason "stop" and is not in the content', async () => {
  const r = await client.chat.completions.create({
    model: 'x',
    messages: [{ role: 'user', content: 'Hello a' }],
    max_tokens: 10,
    stop: ['de'],
    temperature: 0,
  });
  assert.equal(r.choices[0]!.message.content, 'bc');
  assert.equal(r.choices[0]!.finish_reason, 'stop');
  assert.equal(r.usage?.completion_tokens, 4);
});

test('chat logprobs with top_logprobs', async () => {
  const r = await client.chat.completions.create({
    model: 'x',
    messages: [{ role: 'user', content: 'Hello a' }],
    max_tokens: 2,
    logprobs: true,
    top_logprobs: 2,
    temperature: 0,
  });
  assert.deepEqual(r.choices[0]!.logprobs, {
    content: [
      {
        token: 'b',
        logprob: -0.25,
        bytes: [98],
        top_logprobs: [
          { token: 'b', logprob: -0.25, bytes: [98] },
          { token: 'c', logprob: -1.25, bytes: [99] },
        ],
      },
      {
        token: 'c',
        logprob: -0.25,
        bytes: [99],
        top_logprobs: [
          { token: 'c', logprob: -0.25, bytes: [99] },
          { token: 'd', logprob: -1.25, bytes: [100] },
        ],
      },
    ],
  });
});

test('a multi-byte character split over byte tokens is never streamed broken', async () => {
  const stream = await client.chat.completions.create({
    model: 'x',
    messages: [{ role: 'user', content: 'Hello é' }],
    max_tokens: 4,
    temperature: 0,
    stream: true,
  });
  const deltas: string[] = [];
  for await (const c of stream) if (c.choices[0]?.delta.content) deltas.push(c.choices[0].delta.content);
  assert.ok(
    deltas.every((d) => !d.includes('\uFFFD')),
    JSON.stringify(deltas),
  );
  assert.equal(deltas.join(''), '日a');
});

test('completions: non-streamed and streamed shapes; echo prepends the prompt', async () => {
  const r = await client.completions.create({ model: 'x', prompt: 'Hello a', max_tokens: 3, temperature: 0 });
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.object, 'text_completion');
  assert.equal(r.model, 'test-model');
  assert.deepEqual(r.choices, [{ text: 'bcd', index: 0, logprobs: null, finish_reason: 'length' }]);
  assert.deepEqual(r.usage, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
  const echoed = await client.completions.create({ model: 'x', prompt: 'Hello a', max_tokens: 2, temperature: 0, echo: true });
  assert.equal(echoed.choices[0]!.text, 'Hello abc');
  const stream = await client.completions.create({
    model: 'x',
    prompt: [[1, 303, 259, 260]],
    max_tokens: 3,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.deepEqual(
    chunks.map((c) => c.choices[0]?.text ?? null),
    ['b', 'c', 'd', '', null],
  );
  assert.deepEqual(
    chunks.map((c) => (c.choices.length > 0 ? c.choices[0]!.finish_reason : 'none')),
    [null, null, null, 'length', 'none'],
  );
  assert.ok(chunks.every((c) => c.object === 'text_completion'));
  assert.deepEqual(chunks.at(-1)!.usage, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
});

test('GET /v1/models lists the served model', async () => {
  const list = await client.models.list();
  assert.deepEqual(
    list.data.map((m) => [m.id, m.object, m.owned_by]),
    [['test-model', 'model', 'tessera']],
  );
});

test('client mistakes are 400 invalid_request_error naming the param; unknown routes 404; bad JSON 400', async () => {
  const expect400 = async (p: Promise<unknown>, param: string) =>
    assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal((err.error as { type?: string }).type, 'invalid_request_error');
      assert.equal(err.param, param);
      return true;
    });
  await expect400(client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'a' }], temperature: -1 }), 'temperature');
  await expect400(client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'a' }], n: 99 }), 'n');
  await expect400(client.completions.create({ model: 'x', prompt: 'a', max_tokens: 99999 }), 'max_tokens');
  await expect400(client.chat.completions.create({ model: 'x', messages: [] }), 'messages');
  const bad = await postJson(`${t.url}/v1/chat/completions`, '{not json');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.type, 'invalid_request_error');
  const nf = await fetch(`${t.url}/v1/nothing`);
  assert.equal(nf.status, 404);
  assert.equal((await nf.json()).error.code, 'unknown_url');
});
