// @module Tests of one streaming request against a scripted local SSE server (awkward TCP splits, usage, errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequestBody, endpointUrl, streamRequest } from './request.ts';
import type { RequestSpec } from './request.ts';
import { playScript, sseData, startScriptedServer } from './scripted-server.ts';

const spec = (url: string, over: Partial<RequestSpec> = {}): RequestSpec => ({
  url,
  endpoint: 'completions',
  model: 'm',
  prompt: 'Once upon a time',
  maxTokens: 5,
  temperature: 0,
  ignoreEos: true,
  timeoutMs: 5000,
  ...over,
});
const ids = { index: 3, promptIndex: 1 };

const completion = (text: string, finish: string | null = null) =>
  sseData({ id: 'c', object: 'text_completion', choices: [{ index: 0, text, finish_reason: finish }] });

test('completions stream: chunks split mid-frame and mid-UTF-8 are timed once each; usage gives the token count', async (t) => {
  const emoji = Buffer.from(completion(' 🙂'));
  const cutInEmoji = emoji.indexOf(0xf0) + 2; // inside the 4-byte sequence
  const server = await startScriptedServer((_req, res) =>
    playScript(res, [
      ': ping\n\n',
      'da',
      20,
      completion('Once').slice(2, 15),
      20,
      completion('Once').slice(15), // first content, split 3 ways
      30,
      completion(' upon').slice(0, -1),
      30,
      '\n', // frame end arrives late: timed when complete
      30,
      emoji.subarray(0, cutInEmoji),
      20,
      emoji.subarray(cutInEmoji),
      30,
      completion(' a') + completion('', 'length') + sseData({ choices: [], usage: { prompt_tokens: 6, completion_tokens: 5, total_tokens: 11 } }),
      'data: [DO',
      10,
      'NE]\n\n',
    ]),
  );
  t.after(() => server.close());

  const record = await streamRequest(spec(server.url), ids);
  assert.equal(record.ok, true, record.error);
  assert.equal(record.index, 3);
  assert.equal(record.promptIndex, 1);
  assert.equal(record.text, 'Once upon 🙂 a');
  assert.equal(record.chunkMs.length, 4, 'the empty finish chunk and the usage chunk carry no content');
  assert.equal(record.usageCompletionTokens, 5);
  assert.equal(record.outputTokens, 5, 'usage wins over the chunk count');
  assert.equal(record.promptTokens, 6);
  assert.equal(record.finishReason, 'length');
  // Delays of ≥ 40 ms separate the completions of consecutive content frames.
  const gaps = record.chunkMs.slice(1).map((at, i) => at - record.chunkMs[i]!);
  for (const gap of gaps.slice(0, 2)) assert.ok(gap >= 35, `gap ${gap} ms should reflect the scripted ≥ 40 ms delay`);
  assert.ok(record.chunkMs[0]! - record.startMs >= 35, 'TTFT includes the split first frame');
  assert.ok(record.endMs >= record.chunkMs.at(-1)!, 'end is at or after the last content chunk');

  const body = server.requests[0]!;
  assert.equal(body.url, '/v1/completions');
  assert.deepEqual(body.body, {
    model: 'm',
    prompt: 'Once upon a time',
    max_tokens: 5,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true,
  });
});

test('chat stream without usage: role-only chunk is not content; tokens fall back to the content-chunk count', async (t) => {
  const delta = (d: Record<string, unknown>, finish: string | null = null) =>
    sseData({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: d, finish_reason: finish }] });
  const server = await startScriptedServer((_req, res) =>
    playScript(res, [
      delta({ role: 'assistant', content: '' }),
      5,
      delta({ content: 'Hi' }),
      5,
      delta({ content: ' there' }),
      delta({}, 'stop'),
      sseData('[DONE]'),
    ]),
  );
  t.after(() => server.close());

  const format = { type: 'json_object' };
  const record = await streamRequest(
    spec(server.url + '/v1/', { endpoint: 'chat', temperature: 0.7, seed: 42, ignoreEos: false, responseFormat: format }),
    ids,
  );
  assert.equal(record.ok, true, record.error);
  assert.equal(record.chunkMs.length, 2);
  assert.equal(record.usageCompletionTokens, null);
  assert.equal(record.outputTokens, 2);
  assert.equal(record.finishReason, 'stop');
  assert.equal(server.requests[0]!.url, '/v1/chat/completions');
  assert.deepEqual(server.requests[0]!.body.messages, [{ role: 'user', content: 'Once upon a time' }]);
  assert.equal(server.requests[0]!.body.seed, 42, 'seed is sent when sampling');
  assert.equal('ignore_eos' in server.requests[0]!.body, false);
  assert.deepEqual(server.requests[0]!.body.response_format, format, '--response-format is sent as is');
});

test('failures: HTTP error, error event mid-stream, empty stream and timeout are recorded, never thrown', async (t) => {
  const server = await startScriptedServer(async (req, res) => {
    const mode = req.body.prompt;
    if (mode === 'http') {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'max_tokens too large', type: 'invalid_request_error' } }));
    } else if (mode === 'midstream') {
      await playScript(res, [completion('a'), sseData({ error: { message: 'shard died' } }), sseData('[DONE]')]);
    } else if (mode === 'empty') {
      await playScript(res, [sseData('[DONE]')]);
    } else {
      await playScript(res, [completion('a'), 2000, sseData('[DONE]')]);
    }
  });
  t.after(() => server.close());

  const http = await streamRequest(spec(server.url, { prompt: 'http' }), ids);
  assert.equal(http.ok, false);
  assert.match(http.error!, /HTTP 422.*max_tokens too large/);
  const mid = await streamRequest(spec(server.url, { prompt: 'midstream' }), ids);
  assert.equal(mid.ok, false);
  assert.match(mid.error!, /shard died/);
  const empty = await streamRequest(spec(server.url, { prompt: 'empty' }), ids);
  assert.equal(empty.ok, false);
  assert.match(empty.error!, /without any content chunk/);
  const slow = await streamRequest(spec(server.url, { prompt: 'slow', timeoutMs: 200 }), ids);
  assert.equal(slow.ok, false);
  assert.match(slow.error!, /timed out after 200 ms/);
});

test('endpointUrl and buildRequestBody', () => {
  assert.equal(endpointUrl('http://h:1', 'completions'), 'http://h:1/v1/completions');
  assert.equal(endpointUrl('http://h:1/v1/', 'chat'), 'http://h:1/v1/chat/completions');
  const body = buildRequestBody(spec('http://h', { seed: 7, temperature: 0 }));
  assert.equal('seed' in body, false, 'greedy requests carry no seed');
  assert.equal('top_p' in body, false, 'top_p is sent only when asked for');
  assert.equal(buildRequestBody(spec('http://h', { temperature: 0.7, topP: 0.9 })).top_p, 0.9);
});
