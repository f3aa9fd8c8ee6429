// @module Tests of the incremental SSE parser under arbitrary byte splits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './sse.ts';
import type { SseEvent } from './sse.ts';

const encoder = new TextEncoder();

function parseInPieces(bytes: Uint8Array, cuts: number[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(from, cut)));
    from = cut;
  }
  events.push(...parser.end());
  return events;
}

const STREAM =
  ': keep-alive comment\n\n' +
  'data: {"text":"Once"}\n\n' +
  'data: {"text":" upon 🙂"}\r\n\r\n' +
  'event: error\ndata: {"error":"x"}\n\n' +
  'data: line one\ndata:line two\n\n' +
  'data: [DONE]\n\n';

const EXPECTED: SseEvent[] = [
  { event: 'message', data: '{"text":"Once"}' },
  { event: 'message', data: '{"text":" upon 🙂"}' },
  { event: 'error', data: '{"error":"x"}' },
  { event: 'message', data: 'line one\nline two' },
  { event: 'message', data: '[DONE]' },
];

test('parses a whole stream delivered at once', () => {
  assert.deepEqual(parseInPieces(encoder.encode(STREAM), []), EXPECTED);
});

test('gives the same events for every single split point, including inside UTF-8 and CRLF', () => {
  const bytes = encoder.encode(STREAM);
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.deepEqual(parseInPieces(bytes, [cut]), EXPECTED, `split at byte ${cut}`);
  }
});

test('gives the same events when fed one byte at a time', () => {
  const bytes = encoder.encode(STREAM);
  assert.deepEqual(
    parseInPieces(
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    ),
    EXPECTED,
  );
});

test('lone CR line endings work, and "\\r" then "\\n" across pieces is one line end', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('data: a\r'), []);
  assert.deepEqual(parser.push('\n'), []);
  assert.deepEqual(parser.push('\r\n'), [{ event: 'message', data: 'a' }]);
  assert.deepEqual(parser.push('data: b\r\rdata: c\r\r'), [
    { event: 'message', data: 'b' },
    { event: 'message', data: 'c' },
  ]);
});

test('a final event with no closing blank line is still dispatched at end of stream', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('data: done\n\ndata: [DO'), [{ event: 'message', data: 'done' }]);
  assert.deepEqual(parser.push('NE]'), []);
  assert.deepEqual(parser.end(), [{ event: 'message', data: '[DONE]' }]);
  const other = new SseParser();
  assert.deepEqual(other.push('data: x\n'), []);
  assert.deepEqual(other.end(), [{ event: 'message', data: 'x' }]);
  assert.deepEqual(new SseParser().end(), []);
});
