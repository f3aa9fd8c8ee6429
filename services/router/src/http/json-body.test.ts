// @module Tests: the body edge on a real router: 415 media type/charset/encoding, 400 undecodable, depth and array limits, nulls, hidden 500s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { RouterMetrics } from '../metrics.ts';
import { createApp, type AppDeps } from './app.ts';
import { startTestRouter, type TestRouter } from '../testing/router-harness.ts';
import { checkJsonShape, parseContentType } from './json-body.ts';

let t: TestRouter;
before(async () => {
  t = await startTestRouter();
});
after(async () => {
  await t.close();
});

async function post(route: string, body: string | Uint8Array, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${t.url}${route}`, { method: 'POST', headers, body: body as unknown as BodyInit });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) };
}

const chat = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hello a' }], max_tokens: 2 });
const generate = JSON.stringify({ inputs: 'Hello a', parameters: { max_new_tokens: 2 } });
const JSON_UTF8 = { 'content-type': 'application/json; charset=utf-8' };

test('parseContentType and checkJsonShape', () => {
  assert.deepEqual(parseContentType('Application/JSON; Charset="UTF-8"'), { type: 'application/json', charset: 'utf-8' });
  assert.deepEqual(parseContentType('application/json'), { type: 'application/json', charset: null });
  const limits = { maxDepth: 3, maxArrayLength: 3 };
  checkJsonShape(Buffer.from('[[[1,2,3]]]'), limits);
  checkJsonShape(Buffer.from('{"a":"[[[[[[,,,,,\\"[["}'), limits); // brackets and commas inside strings do not count
  assert.throws(() => checkJsonShape(Buffer.from('[[[[1]]]]'), limits), /nested deeper than 3/);
  assert.throws(() => checkJsonShape(Buffer.from('{"a":[1,2,3,4]}'), limits), /longer than 3/);
});

test('only UTF-8 application/json bodies: anything else is 415 in the route dialect', async () => {
  assert.equal((await post('/v1/chat/completions', chat, JSON_UTF8)).status, 200);
  assert.equal((await post('/generate', generate, { 'content-type': 'application/vnd.api+json' })).status, 200);
  for (const charset of ['latin1', 'utf-16', 'iso-8859-1']) {
    const openai = await post('/v1/chat/completions', chat, { 'content-type': `application/json; charset=${charset}` });
    assert.equal(openai.status, 415);
    assert.equal(openai.body.error.type, 'invalid_request_error');
    assert.match(openai.body.error.message, /charset/);
    const tgi = await post('/generate', generate, { 'content-type': `application/json; charset=${charset}` });
    assert.equal(tgi.status, 415);
    assert.equal(typeof tgi.body.error, 'string');
    assert.equal(typeof tgi.body.error_type, 'string');
  }
  const plain = await post('/generate', generate, { 'content-type': 'text/plain' });
  assert.equal(plain.status, 415);
  assert.match(plain.body.error, /application\/json/);
  const form = await post('/v1/completions', 'prompt=hi', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 415);
  const none = await post('/generate', new TextEncoder().encode(generate), {});
  assert.equal(none.status, 415);
});

test('Content-Encoding: gzip and br bodies decode; garbage is 400/422, unknown encodings 415', async () => {
  assert.equal((await post('/generate', gzipSync(generate), { ...JSON_UTF8, 'content-encoding': 'gzip' })).status, 200);
  assert.equal((await post('/v1/chat/completions', brotliCompressSync(chat), { ...JSON_UTF8, 'content-encoding': 'br' })).status, 200);
  for (const enc of ['gzip', 'br', 'deflate']) {
    const bad = await post('/v1/chat/completions', 'certainly not compressed', { ...JSON_UTF8, 'content-encoding': enc });
    assert.equal(bad.status, 400, enc);
    assert.match(bad.body.error.message, /decoded|JSON/, enc);
    assert.equal((await post('/generate', 'certainly not compressed', { ...JSON_UTF8, 'content-encoding': enc })).status, 422, enc);
  }
  const unknown = await post('/v1/completions', '{}', { ...JSON_UTF8, 'content-encoding': 'compress' });
  assert.equal(unknown.status, 415);
  assert.match(unknown.body.error.message, /Content-Encoding/);
});

test('nesting deeper than 64 and arrays over the limit are refused with a message, never a stack overflow', async () => {
  const deep = `{"inputs":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  const d = await post('/generate', deep, JSON_UTF8);
  assert.equal(d.status, 422);
  assert.match(d.body.error, /nested deeper than 64/);
  const d2 = await post('/v1/chat/completions', `{"messages":${'{"a":'.repeat(65)}1${'}'.repeat(65)}}`, JSON_UTF8);
  assert.equal(d2.status, 400);
  assert.match(d2.body.error.message, /nested deeper/);
  const long = await post('/v1/completions', `{"prompt":[${'1,'.repeat(262_144)}1]}`, JSON_UTF8);
  assert.equal(long.status, 400);
  assert.match(long.body.error.message, /array longer than 262144/);
});

test('null where an object is expected is a 4xx about the input', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['/v1/chat/completions', { messages: [{ role: 'user', content: [null] }] }, /content\[0\]/],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: [{ type: 'text', text: null }] }] }, /text/],
    ['/v1/chat/completions', { messages: [null] }, /messages\[0\]/],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'a' }], tools: [null] }, /tools/],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'a' }], stop: [null] }, /stop/],
    ['/v1/completions', { prompt: [null] }, /prompt/],
    ['/v1/completions', null, /JSON object/],
    ['/chat_tokenize', { messages: [{ role: 'user', content: [null] }] }, /content\[0\]/],
    ['/tokenize', { messages: [null] }, /messages/],
    ['/generate', { inputs: 'a', parameters: { stop: [null] } }, /stop/],
    ['/generate', { inputs: null }, /inputs/],
    ['/generate', [null], /inputs/],
  ];
  for (const [route, body, mention] of cases) {
    const r = await post(route, JSON.stringify(body), JSON_UTF8);
    assert.ok(r.status >= 400 && r.status < 500, `${route} ${JSON.stringify(body)} → ${r.status}`);
    const message = route.startsWith('/v1/') ? r.body.error.message : r.body.error;
    assert.match(message, mention, `${route} ${JSON.stringify(body)}`);
  }
  // parameters: null is TGI's "no parameters" (Option), as it was before.
  assert.equal((await post('/generate', JSON.stringify({ inputs: 'Hello a', parameters: null }), JSON_UTF8)).status, 200);
});

test('a huge prompt or message list is refused in far less time than tokenizing or rendering all of it', async () => {
  const started = performance.now();
  const long = await post('/generate', JSON.stringify({ inputs: 'Hello a '.repeat(1_500_000) }), JSON_UTF8);
  assert.equal(long.status, 422);
  assert.match(long.body.error, /must have less than \d+ tokens \(max_input_tokens\)\. Given: (more than|at least) \d+/);
  const many = await post(
    '/v1/chat/completions',
    JSON.stringify({ messages: Array.from({ length: 200_000 }, () => ({ role: 'user', content: 'a' })) }),
    JSON_UTF8,
  );
  assert.equal(many.status, 400);
  assert.match(many.body.error.message, /200000 messages: more than max_input_tokens/);
  const tokenize = await post('/tokenize', JSON.stringify({ inputs: 'Hello a '.repeat(1_500_000) }), JSON_UTF8);
  assert.equal(tokenize.status, 422);
  assert.match(tokenize.body.error, /longer than the model's context/);
  // Tokenizing 12 MB would take minutes here; the refusals take well under a second on an idle box. The
  // bound is wide because other test files run beside this one (test/run.mjs) and took it to 6.6 s once.
  const ms = performance.now() - started;
  assert.ok(ms < 30_000, `took ${Math.round(ms)} ms`);
});

test('an unexpected error is logged with the request id; the client sees only that id, in the API format', async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'error' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const metrics = new RouterMetrics({ defaultMetrics: false, model: 'm' });
  // Only what /health touches is real; the health check itself fails the way a bug would.
  const deps = {
    logger,
    metrics,
    info: { max_total_tokens: 8 },
    health: async () => {
      throw new TypeError('secret /internal/path exploded');
    },
  } as unknown as AppDeps;
  const server = createServer(createApp(deps));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/health`, { headers: { 'x-request-id': 'req-42' } });
    assert.equal(res.status, 500);
    const body = (await res.json()) as { error: string; error_type: string };
    assert.deepEqual(body, { error: 'internal error; request id req-42', error_type: 'internal' });
    assert.doesNotMatch(JSON.stringify(body), /secret/);
    const line = lines.find((l) => l.msg === 'unhandled error');
    assert.equal(line?.requestId, 'req-42');
    assert.match(JSON.stringify(line?.err), /secret/);
  } finally {
    server.close();
  }
});
