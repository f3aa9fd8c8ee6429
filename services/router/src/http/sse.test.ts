// @module Tests: SSE framing (both dialects, multi-line data) and the writer over a real HTTP response.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { sseFrame, SseWriter } from './sse.ts';

test('OpenAI frames have a space after data:, TGI frames none; each ends with a blank line', () => {
  assert.equal(sseFrame('{"a":1}', { space: true }), 'data: {"a":1}\n\n');
  assert.equal(sseFrame('{"a":1}', { space: false }), 'data:{"a":1}\n\n');
  assert.equal(sseFrame('[DONE]', { space: true }), 'data: [DONE]\n\n');
});

test('data with newlines becomes one data: field per line (SSE forbids raw newlines)', () => {
  assert.equal(sseFrame('a\nb\r\nc', { space: true }), 'data: a\ndata: b\ndata: c\n\n');
});

test('SseWriter sends event-stream headers, frames, [DONE], and ends the response', async () => {
  const app = express();
  app.get('/s', async (_req, res) => {
    const w = new SseWriter(res, { space: true });
    await w.open();
    w.sendJson({ n: 1 });
    w.sendDone();
    w.end();
    w.send('ignored after end');
  });
  const server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/s`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(await res.text(), 'data: {"n":1}\n\ndata: [DONE]\n\n');
  } finally {
    server.close();
  }
});
