// @module Tests: bad input gets a 4xx in the route's own error format — never a 500, a crash or a hang (the whole router in-process over a scripted shard: every check here is the router's).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRouter, type TestRouter } from '../testing/router-harness.ts';

type Format = 'openai' | 'tgi';

describe('bad input', () => {
  let cluster: TestRouter;
  before(async () => {
    cluster = await startTestRouter();
  });
  after(() => cluster?.close());

  async function expectError(route: string, body: string, format: Format, status?: number, mention?: RegExp) {
    const res = await fetch(`${cluster.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    assert.ok(res.status >= 400 && res.status < 500, `${route} ${body} → ${res.status} ${text}`);
    if (status !== undefined) assert.equal(res.status, status, text);
    const json = JSON.parse(text) as Record<string, unknown>;
    if (format === 'openai') {
      const err = json.error as { message: string; type: string };
      assert.equal(typeof err.message, 'string', text);
      assert.equal(typeof err.type, 'string', text);
      if (mention) assert.match(err.message, mention);
    } else {
      assert.equal(typeof json.error, 'string', text);
      assert.equal(typeof json.error_type, 'string', text);
      if (mention) assert.match(json.error as string, mention);
    }
  }

  const chat = (extra: object) => JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hi' }], ...extra });
  const completion = (extra: object) => JSON.stringify({ model: 'x', prompt: 'hi', ...extra });
  const generate = (params: object, inputs: unknown = 'hi') => JSON.stringify({ inputs, parameters: params });

  test('malformed JSON', async () => {
    await expectError('/v1/chat/completions', '{"model": "x", "messages": [', 'openai');
    await expectError('/v1/completions', 'not json at all', 'openai');
    await expectError('/generate', '{"inputs": "hi",', 'tgi');
    await expectError('/generate_stream', '{', 'tgi');
  });

  test('wrong types and missing fields', async () => {
    await expectError('/v1/chat/completions', JSON.stringify({ model: 'x', messages: 'hi' }), 'openai', undefined, /messages/);
    await expectError('/v1/chat/completions', JSON.stringify({ model: 'x' }), 'openai', undefined, /messages/);
    await expectError('/v1/chat/completions', chat({ temperature: 'hot' }), 'openai', undefined, /temperature/);
    await expectError('/v1/completions', JSON.stringify({ model: 'x', prompt: 42 }), 'openai', undefined, /prompt/);
    await expectError('/generate', JSON.stringify({ parameters: {} }), 'tgi', 422, /inputs/);
    await expectError('/generate', generate({ max_new_tokens: 'ten' }), 'tgi', 422, /max_new_tokens/);
    await expectError('/generate', generate({ top_p: 1.5 }), 'tgi', 422, /top_p/);
    await expectError('/generate', generate({ top_k: -1 }), 'tgi', 422, /top_k/);
  });

  test('empty messages and empty inputs', async () => {
    await expectError('/v1/chat/completions', JSON.stringify({ model: 'x', messages: [] }), 'openai', undefined, /messages/);
    await expectError('/generate', generate({}, ''), 'tgi', 422);
  });

  test('negative or absurd max_tokens', async () => {
    await expectError('/v1/chat/completions', chat({ max_tokens: -1 }), 'openai', undefined, /max_tokens/);
    await expectError('/v1/completions', completion({ max_tokens: 0 }), 'openai', undefined, /max_tokens/);
    await expectError('/v1/completions', completion({ max_tokens: 10_000_000 }), 'openai', undefined, /max_tokens|total/);
    await expectError('/generate', generate({ max_new_tokens: 1e12 }), 'tgi', 422);
    await expectError('/generate', generate({ max_new_tokens: -5 }), 'tgi', 422);
  });

  test('unsupported parameter values name the parameter', async () => {
    await expectError('/v1/chat/completions', chat({ n: 99 }), 'openai', undefined, /\bn\b/);
    await expectError('/v1/completions', completion({ suffix: 'end' }), 'openai', undefined, /suffix/);
    await expectError('/generate', generate({ watermark: true }), 'tgi', 422, /watermark/);
    await expectError('/v1/chat/completions', chat({ temperature: -1 }), 'openai', undefined, /temperature/);
    await expectError('/v1/completions', completion({ stop: ['a', 'b', 'c', 'd', 'e'] }), 'openai', undefined, /stop/);
  });

  test('an over-long prompt is rejected, not crashed on', async () => {
    const info = (await (await fetch(`${cluster.url}/info`)).json()) as { max_input_tokens: number };
    const long = 'word '.repeat(info.max_input_tokens + 10);
    await expectError('/generate', generate({ max_new_tokens: 4 }, long), 'tgi', 422, /token/);
    await expectError('/v1/completions', JSON.stringify({ model: 'x', prompt: long, max_tokens: 4 }), 'openai', undefined, /token/);
  });

  test('unknown routes are 404 JSON; the server is still healthy afterwards', async () => {
    const res = await fetch(`${cluster.url}/v1/does-not-exist`, { method: 'POST' });
    assert.equal(res.status, 404);
    JSON.parse(await res.text());
    assert.equal((await fetch(`${cluster.url}/health`)).status, 200);
    const ok = await fetch(`${cluster.url}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: generate({ max_new_tokens: 2 }),
    });
    assert.equal(ok.status, 200);
  });
});
