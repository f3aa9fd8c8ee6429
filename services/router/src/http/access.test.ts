// @module Tests: --api-key (Bearer or x-api-key, public probe paths, 401 per API format, metric) and --cors-allow-origin on a real router.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startTestRouter, type TestRouter } from '../testing/router-harness.ts';

const KEY = 'sk-test-edge-0123456789';
const ORIGIN = 'http://allowed.example:3000';
let t: TestRouter;
before(async () => {
  t = await startTestRouter({ args: ['--api-key', KEY, '--cors-allow-origin', `${ORIGIN},http://other.example`] });
});
after(async () => {
  await t.close();
});

const generate = (headers: Record<string, string>) =>
  fetch(`${t.url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ inputs: 'Hello a', parameters: { max_new_tokens: 2 } }),
  });

test('probes and scrapes need no key; everything else answers 401 in its API format', async () => {
  for (const p of ['/health', '/live', '/metrics', '/health/']) assert.equal((await fetch(`${t.url}${p}`)).status, 200, p);
  for (const p of ['/info', '/', '/status', '/v1/models']) assert.equal((await fetch(`${t.url}${p}`)).status, 401, p);
  const tgi = await generate({});
  assert.equal(tgi.status, 401);
  assert.equal(tgi.headers.get('www-authenticate'), 'Bearer');
  assert.deepEqual(await tgi.json(), { error: 'missing API key: send `Authorization: Bearer KEY` or `x-api-key: KEY`', error_type: 'unauthorized' });
  const wrong = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}x`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(wrong.status, 401);
  const body = (await wrong.json()) as { error: { message: string; type: string; code: string } };
  assert.equal(body.error.message, 'invalid API key');
  assert.equal(body.error.code, 'invalid_api_key');
  // POST / is a generation route even though GET / could be made public.
  assert.equal((await fetch(`${t.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"a"}' })).status, 401);
  const metrics = await (await fetch(`${t.url}/metrics`)).text();
  assert.match(metrics, /^tessera_requests_rejected_total\{reason="unauthorized"[^}]*\} [1-9]/m);
});

test('the key works as a Bearer token (any case) and as x-api-key', async () => {
  assert.equal((await generate({ authorization: `Bearer ${KEY}` })).status, 200);
  assert.equal((await generate({ authorization: `bearer ${KEY}` })).status, 200);
  assert.equal((await generate({ 'x-api-key': KEY })).status, 200);
  assert.equal((await generate({ 'x-api-key': KEY.slice(0, -1) })).status, 401);
});

test('the openai client with apiKey works; a wrong key is its AuthenticationError', async () => {
  const ok = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const r = await ok.chat.completions.create({ model: 'test-model', messages: [{ role: 'user', content: 'Hello a' }], max_tokens: 2 });
  assert.equal(r.choices.length, 1);
  const bad = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'nope', maxRetries: 0 });
  await assert.rejects(bad.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError && err.status === 401);
});

test('CORS: an allowed origin gets its preflight (before the key check) and readable answers; others get no CORS headers', async () => {
  const preflight = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), ORIGIN);
  assert.match(preflight.headers.get('access-control-allow-methods')!, /POST/);
  for (const h of ['authorization', 'content-type', 'x-api-key']) assert.match(preflight.headers.get('access-control-allow-headers')!, new RegExp(h));
  assert.match(preflight.headers.get('vary')!, /Origin/);
  // The 401 itself carries CORS headers, so the page can tell "wrong key" from "blocked".
  const unauthorized = await generate({ origin: ORIGIN });
  assert.equal(unauthorized.status, 401);
  assert.equal(unauthorized.headers.get('access-control-allow-origin'), ORIGIN);
  const ok = await generate({ origin: ORIGIN, authorization: `Bearer ${KEY}` });
  assert.equal(ok.headers.get('access-control-allow-origin'), ORIGIN);
  assert.match(ok.headers.get('access-control-expose-headers')!, /x-request-id/);
  const stranger = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(stranger.headers.get('access-control-allow-origin'), null);
  assert.equal((await generate({ origin: 'http://evil.example', 'x-api-key': KEY })).headers.get('access-control-allow-origin'), null);
});
