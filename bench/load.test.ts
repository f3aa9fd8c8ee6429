// @module Tests of the closed-loop client pool and model discovery against a scripted local server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverModel, runLoad, warmup } from './load.ts';
import type { LoadOptions } from './load.ts';
import { playScript, sseData, startScriptedServer } from './scripted-server.ts';
import type { ScriptedHandler } from './scripted-server.ts';

/** Streams three one-token chunks, 10 ms apart, then usage; fails prompts containing "FAIL" with HTTP 503. */
const threeTokens: ScriptedHandler = async (req, res) => {
  if (req.url === '/v1/models') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'stories260K', object: 'model' }] }));
    return;
  }
  if (String(req.body.prompt).includes('FAIL')) {
    res.writeHead(503);
    res.end('overloaded');
    return;
  }
  const chunk = (text: string) => sseData({ choices: [{ index: 0, text, finish_reason: null }] });
  await playScript(res, [
    chunk('a'),
    10,
    chunk('b'),
    10,
    chunk('c'),
    sseData({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 3 } }),
    sseData('[DONE]'),
  ]);
};

const options = (url: string, over: Partial<LoadOptions> = {}): LoadOptions => ({
  url,
  endpoint: 'completions',
  model: 'm',
  prompts: ['p0', 'p1', 'p2', 'p3'],
  numRequests: 10,
  concurrency: 3,
  maxTokens: 3,
  temperature: 0,
  ignoreEos: false,
  seed: 0,
  timeoutMs: 5000,
  ...over,
});

test('runs n requests with at most c in flight, records in index order, prompt i mod len', async (t) => {
  const server = await startScriptedServer(threeTokens);
  t.after(() => server.close());
  const finished: number[] = [];
  const { records, durationMs } = await runLoad(options(server.url, { onRequestDone: (_r, n) => finished.push(n) }));

  assert.equal(records.length, 10);
  assert.deepEqual(
    records.map((r) => r.index),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(
    records.map((r) => r.promptIndex),
    [0, 1, 2, 3, 0, 1, 2, 3, 0, 1],
  );
  assert.ok(records.every((r) => r.ok && r.outputTokens === 3 && r.chunkMs.length === 3));
  assert.equal(server.maxInFlight, 3, 'closed loop keeps exactly c requests in flight');
  assert.deepEqual(finished, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const sentPrompts = server.requests.map((r) => r.body.prompt).sort();
  assert.deepEqual(sentPrompts, ['p0', 'p0', 'p0', 'p1', 'p1', 'p1', 'p2', 'p2', 'p3', 'p3']);
  // 10 requests of ≥ 20 ms each, 3 at a time → at least 4 rounds
  assert.ok(durationMs >= 75, `duration ${durationMs} ms`);
  assert.ok(
    records.every((r) => r.startMs >= 0 && r.endMs <= durationMs),
    'times are relative to the run start',
  );
});

test('a non-zero seed permutes which prompt each request gets, deterministically', async (t) => {
  const server = await startScriptedServer(threeTokens);
  t.after(() => server.close());
  const a = await runLoad(options(server.url, { seed: 5, numRequests: 8, concurrency: 4 }));
  const b = await runLoad(options(server.url, { seed: 5, numRequests: 8, concurrency: 4 }));
  const order = a.records.map((r) => r.promptIndex);
  assert.deepEqual(
    order,
    b.records.map((r) => r.promptIndex),
  );
  assert.deepEqual([...order.slice(0, 4)].sort(), [0, 1, 2, 3], 'each prompt once per cycle');
  assert.deepEqual(order.slice(4), order.slice(0, 4), 'the cycle repeats');
});

test('failed requests are recorded and do not stop the run; warmup uses the first prompt', async (t) => {
  const server = await startScriptedServer(threeTokens);
  t.after(() => server.close());
  const { records } = await runLoad(options(server.url, { prompts: ['ok', 'FAIL'], numRequests: 4, concurrency: 2 }));
  assert.deepEqual(
    records.map((r) => r.ok),
    [true, false, true, false],
  );
  assert.match(records[1]!.error!, /HTTP 503/);

  const before = server.requests.length;
  const warm = await warmup(options(server.url, { prompts: ['w', 'FAIL'], concurrency: 8 }), 2);
  assert.equal(warm.length, 2);
  assert.deepEqual(
    server.requests.slice(before).map((r) => r.body.prompt),
    ['w', 'w'],
  );
  assert.ok(warm.every((r) => r.ok));
});

test('discoverModel reads the first id of /v1/models and gives undefined when the server is absent', async (t) => {
  const server = await startScriptedServer(threeTokens);
  t.after(() => server.close());
  assert.equal(await discoverModel(server.url), 'stories260K');
  assert.equal(await discoverModel(`${server.url}/v1`), 'stories260K');
  const gone = server.url;
  await server.close();
  assert.equal(await discoverModel(gone, 1000), undefined);
});

test('rejects bad pool options', async () => {
  await assert.rejects(runLoad(options('http://127.0.0.1:9', { concurrency: 0 })), /concurrency/);
  await assert.rejects(runLoad(options('http://127.0.0.1:9', { prompts: [] })), /prompt/);
});
