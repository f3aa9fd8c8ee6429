// @module End-to-end test of the bench CLI against a scripted OpenAI-style server: warmup, table, JSON report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseBenchArgs } from './args.ts';
import { runBenchmark } from './serve.ts';
import type { BenchReport } from './serve.ts';
import { playScript, sseData, startScriptedServer } from './scripted-server.ts';

test('runs warmup + timed load, prints the result block and writes a JSON report', async (t) => {
  const server = await startScriptedServer(async (req, res) => {
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [{ id: 'tiny' }] }));
      return;
    }
    const delta = (content: string) => sseData({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });
    await playScript(res, [
      delta('x'),
      5,
      delta('y'),
      5,
      delta('z'),
      sseData({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 3 } }),
      sseData('[DONE]'),
    ]);
  });
  t.after(() => server.close());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-serve-'));
  const jsonOut = path.join(dir, 'out.json');
  const lines: string[] = [];

  const args = parseBenchArgs([
    '--url',
    server.url,
    '-c',
    '2',
    '-n',
    '6',
    '--max-tokens',
    '3',
    '--endpoint',
    'chat',
    '--warmup',
    '1',
    '--json',
    jsonOut,
    '--quiet',
  ]);
  const code = await runBenchmark(args, (line) => lines.push(line));

  assert.equal(code, 0);
  const chatRequests = server.requests.filter((r) => r.url === '/v1/chat/completions');
  assert.equal(chatRequests.length, 7, '1 warmup + 6 timed');
  assert.ok(
    chatRequests.every((r) => r.body.model === 'tiny'),
    'model discovered from /v1/models',
  );
  const table = lines.join('\n');
  assert.match(table, /Successful requests: +6\n/);
  assert.match(table, /Total generated tokens: +18\n/);
  assert.match(table, /Total input tokens: +12\n/);

  const report = JSON.parse(await readFile(jsonOut, 'utf8')) as BenchReport;
  assert.equal(report.config.model, 'tiny');
  assert.equal(report.config.concurrency, 2);
  assert.equal(report.config.promptCount, 64);
  assert.equal(report.metrics.completed, 6);
  assert.equal(report.metrics.tpotMs.count, 6);
  assert.equal(report.metrics.itlMs.count, 12);
  assert.ok(report.metrics.itlMs.median >= 4, `ITL median ${report.metrics.itlMs.median} reflects the 5 ms gaps`);
  assert.equal(report.requests.length, 6);
  assert.deepEqual(
    report.requests.map((r) => r.promptIndex),
    [0, 1, 2, 3, 4, 5],
  );
  assert.equal(report.requests[0]!.textLength, 3);
});

test('stops with exit code 1 when every warmup request fails (server not up)', async (t) => {
  const server = await startScriptedServer((_req, res) => {
    res.writeHead(500);
    res.end('no model loaded');
  });
  t.after(() => server.close());
  const args = parseBenchArgs(['--url', server.url, '--model', 'm', '-n', '4', '--warmup', '2', '--quiet']);
  const lines: string[] = [];
  assert.equal(await runBenchmark(args, (l) => lines.push(l)), 1);
  assert.equal(server.requests.length, 2, 'no timed requests after a failed warmup');
});
