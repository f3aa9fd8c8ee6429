// @module Tests: graceful shutdown: in-flight streams finish, new requests get 503, probes answer; the timeout fails the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRouter } from './testing/router-harness.ts';
import { parseSse, postJson } from './testing/sse-client.ts';

/** Starts a TGI stream and resolves once its first event arrived, with a promise of the whole body. */
async function startStream(url: string, maxNewTokens: number): Promise<{ rest: Promise<string> }> {
  const res = await fetch(`${url}/generate_stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: 'Hello a', parameters: { max_new_tokens: maxNewTokens } }),
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let raw = '';
  const first = await reader.read();
  raw += decoder.decode(first.value, { stream: true });
  const rest = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return raw;
      raw += decoder.decode(value, { stream: true });
    }
  })();
  return { rest };
}

test('close(): the in-flight stream completes while new requests get 503 and /health says shutting down', async () => {
  // 40 tokens x 25 ms: the stream runs ~1 s after shutdown starts.
  const t = await startTestRouter({ shard: { stepDelayMs: 25 }, args: ['--shutdown-timeout', '30'] });
  let closed = false;
  try {
    const stream = await startStream(t.url, 40);
    const closing = t.router.close().then(() => (closed = true));
    const refused = await postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 2 } });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error_type, 'unhealthy');
    const refusedOpenAI = await postJson(`${t.url}/v1/completions`, { model: 'm', prompt: 'a' });
    assert.equal(refusedOpenAI.status, 503);
    const health = await fetch(`${t.url}/health`);
    assert.equal(health.status, 503);
    assert.match((await health.json()).error, /shutting down/);
    assert.equal((await fetch(`${t.url}/live`)).status, 200);
    assert.equal(closed, false, 'close() waits for the stream');
    const events = parseSse(await stream.rest).map((d) => JSON.parse(d));
    const last = events.at(-1);
    assert.equal(events.length, 40, 'every token arrived');
    assert.ok(last.generated_text.length >= 40, 'the last event carries the whole text');
    await closing;
    await assert.rejects(fetch(`${t.url}/live`), 'the port is closed after the drain');
  } finally {
    await t.close();
  }
});

test('--shutdown-timeout: requests still running when it expires end with an error event', async () => {
  const t = await startTestRouter({ shard: { stepDelayMs: 25 }, args: ['--shutdown-timeout', '0'] });
  try {
    const stream = await startStream(t.url, 400);
    const started = Date.now();
    await t.router.close();
    assert.ok(Date.now() - started < 5_000, 'close() did not wait for the 400-token stream');
    const events = parseSse(await stream.rest).map((d) => JSON.parse(d));
    const last = events.at(-1);
    assert.ok(events.length < 400);
    assert.equal(last.error_type, 'unhealthy');
    assert.match(last.error, /shutting down/);
  } finally {
    await t.close();
  }
});
