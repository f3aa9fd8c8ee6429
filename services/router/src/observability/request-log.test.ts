// @module Tests: one JSON log line per request with its id and timings; prompt/output text only with --log-prompts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startTestRouter } from '../testing/router-harness.ts';
import { postJson, postSse } from '../testing/sse-client.ts';

async function withLoggedRouter(args: string[], fn: (url: string, lines: () => any[]) => Promise<void>): Promise<void> {
  const raw: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void raw.push(s) });
  const t = await startTestRouter({ logger, args });
  try {
    await fn(t.url, () => raw.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' || l.msg === 'request failed'));
  } finally {
    await t.close();
  }
}

test('a generation logs one line at completion: request id, route, status, timings, token counts, no text', async () => {
  await withLoggedRouter([], async (url, lines) => {
    const r = await postJson(`${url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 3 } }, { 'x-request-id': 'req-42' });
    assert.equal(r.headers.get('x-request-id'), 'req-42');
    const s = await postSse(`${url}/generate_stream`, { inputs: 'Hello a', parameters: { max_new_tokens: 2 } });
    const streamId = s.headers.get('x-request-id');
    assert.ok(streamId !== null && streamId.length > 0, 'an id is made when the client sends none');
    await postJson(`${url}/generate`, { inputs: '', parameters: { max_new_tokens: 3 } }); // 422
    await new Promise((r) => setTimeout(r, 20));
    const [gen, stream, bad] = lines();
    assert.equal(lines().length, 3);
    assert.equal(gen.requestId, 'req-42');
    assert.equal(gen.route, '/generate');
    assert.equal(gen.status, 200);
    assert.equal(gen.outcome, 'length');
    assert.equal(gen.generatedTokens, 3);
    assert.ok(gen.inputTokens > 0);
    for (const k of ['ms', 'queueMs', 'firstTokenMs', 'inferenceMs', 'perTokenMs']) assert.equal(typeof gen[k], 'number', k);
    assert.equal(gen.prompt, undefined);
    assert.equal(gen.output, undefined);
    assert.equal(stream.requestId, streamId);
    assert.equal(stream.route, '/generate_stream');
    assert.equal(stream.generatedTokens, 2);
    assert.equal(bad.status, 422);
    assert.equal(bad.outcome, undefined, 'refused before any generation');
    assert.ok(!JSON.stringify(lines()).includes('Hello a'), 'no prompt text anywhere');
  });
});

test('--log-prompts adds the prompt and the output to the completion line', async () => {
  await withLoggedRouter(['--log-prompts'], async (url, lines) => {
    await postJson(`${url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 3 } });
    const [gen] = lines();
    assert.equal(gen.prompt, 'Hello a');
    assert.equal(gen.output, 'bcd');
  });
});

test('probes are not logged at info', async () => {
  await withLoggedRouter([], async (url, lines) => {
    for (const p of ['/health', '/live', '/metrics', '/status']) assert.equal((await fetch(`${url}${p}`)).status, 200);
    assert.equal(lines().length, 0);
  });
});
