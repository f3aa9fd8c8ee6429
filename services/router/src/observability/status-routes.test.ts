// @module Tests: GET / serves the status page to browsers only (POST / stays generate); /status samples every second.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRouter, type TestRouter } from '../testing/router-harness.ts';
import { postJson } from '../testing/sse-client.ts';

let t: TestRouter;
before(async () => {
  t = await startTestRouter({ shard: { stepDelayMs: 5 } });
});
after(async () => {
  await t.close();
});

test('GET / with Accept: text/html is the status page; other GET / is 404; POST / still generates', async () => {
  const page = await fetch(`${t.url}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const html = await page.text();
  assert.match(html, /<title>Tessera status<\/title>/);
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, 'no external scripts or styles');
  assert.equal((await fetch(`${t.url}/`, { headers: { accept: 'application/json' } })).status, 404);
  const gen = await postJson(`${t.url}/`, { inputs: 'Hello a', parameters: { max_new_tokens: 2 } });
  assert.equal(gen.status, 200);
  assert.equal(gen.body[0].generated_text, 'bc');
});

test('/status: model facts, live figures and one history sample per second', async () => {
  const before = await (await fetch(`${t.url}/status`)).json();
  assert.equal(before.phase, 'ready');
  assert.equal(before.model.served_model_name, 'test-model');
  assert.equal(before.model.kv_blocks, 64);
  const tokensBefore = before.now.tokensTotal;
  await Promise.all([1, 2, 3].map(() => postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 20 } })));
  await new Promise((r) => setTimeout(r, 1300));
  const after = await (await fetch(`${t.url}/status`)).json();
  assert.equal(after.now.tokensTotal - tokensBefore, 60);
  assert.ok(after.history.length > before.history.length);
  assert.ok(
    after.history.some((s: { tokensPerSecond: number }) => s.tokensPerSecond > 0),
    JSON.stringify(after.history),
  );
  assert.ok(after.history.some((s: { ttftMs: number | null }) => s.ttftMs !== null && s.ttftMs > 0));
  for (const k of ['t', 'queue', 'running', 'kvUsage', 'tokensPerSecond', 'ttftMs']) assert.ok(k in after.history[0], k);
});
