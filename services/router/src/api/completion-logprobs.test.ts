// @module Tests: OpenAI legacy completion logprobs — offsets, echoed prompt tokens, the chosen token among the alternatives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prefillToken, tokenEvent, tokenInfo } from '../testing/stream-events.ts';
import { LegacyLogprobsBuilder, legacyLogprobs } from './completion-logprobs.ts';

test('generated tokens only: offsets add up the token texts; the chosen token is always among top_logprobs', () => {
  const lp = legacyLogprobs(null, [tokenEvent(0, 'He', { logprob: -1, top: [tokenInfo(1, 'Ho', -0.5)] }), tokenEvent(1, 'llo', { logprob: -2 })]);
  assert.deepEqual(lp.tokens, ['He', 'llo']);
  assert.deepEqual(lp.token_logprobs, [-1, -2]);
  assert.deepEqual(lp.top_logprobs, [{ Ho: -0.5, He: -1 }, { llo: -2 }]);
  assert.deepEqual(lp.text_offset, [0, 2]);
});

test('echo: prompt tokens first (the first has no logprob), generated text offsets start after the prompt text', () => {
  const prompt = { tokens: [prefillToken(1, '<s>', Number.NaN), prefillToken(2, 'Hi', -3, [tokenInfo(4, 'Yo', -1)])], text: 'Hi' };
  const lp = legacyLogprobs(prompt, [tokenEvent(0, '!', { logprob: -0.25 })]);
  assert.deepEqual(lp.tokens, ['<s>', 'Hi', '!']);
  assert.deepEqual(lp.token_logprobs, [null, -3, -0.25]);
  assert.deepEqual(lp.top_logprobs, [null, { Yo: -1, Hi: -3 }, { '!': -0.25 }]);
  assert.deepEqual(lp.text_offset, [0, 3, 2], 'BOS text is not in the prompt text: the generated offset follows the prompt text');
});

test('a duplicate alternative text keeps its first (best) logprob; a non-finite chosen logprob becomes null', () => {
  const b = new LegacyLogprobsBuilder(5);
  b.generated(tokenEvent(0, 'a', { logprob: -Infinity, top: [tokenInfo(1, 'x', -1), tokenInfo(2, 'x', -4)] }));
  assert.deepEqual(b.value.token_logprobs, [null]);
  assert.deepEqual(b.value.top_logprobs, [{ x: -1, a: -Infinity }]);
  assert.deepEqual(b.value.text_offset, [5]);
  assert.equal(b.offset, 6);
});
