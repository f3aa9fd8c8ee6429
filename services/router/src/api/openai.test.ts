// @module Tests: OpenAI /v1/completions wire ⇄ internal — request mapping and its 4xx, usage, responses and stream chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnsupportedError, ValidationError } from '../errors.ts';
import { endEvent, finished, tokenEvent } from '../testing/stream-events.ts';
import {
  completionRequest,
  completionResponse,
  CompletionStreamTranslator,
  completionUsageChunk,
  modelList,
  openAIFinishReason,
  responseContext,
  usage,
} from './openai.ts';

const ctx = { id: 'cmpl-1', created: 1700000000, model: 'm', system_fingerprint: 'fp' };

test('completionRequest maps OpenAI and vLLM names, ignores nulls, reads stream_options and legacy logprobs', () => {
  const req = completionRequest({
    model: 'x',
    prompt: 'Hi',
    max_tokens: 4,
    top_k: -1,
    stop: null,
    stream: true,
    stream_options: { include_usage: true },
    logprobs: 2,
    echo: true,
  });
  assert.equal(req.dialect, 'openai');
  assert.deepEqual(req.input, { kind: 'prompt', value: 'Hi', field: 'prompt' });
  assert.equal(req.params.maxNewTokens, 4);
  assert.equal(req.params.topK, -1, 'vLLM’s “no top-k” passes to validation as sent');
  assert.equal('stop' in req.params, false, 'null means absent');
  assert.equal(req.params.includeUsage, true);
  assert.equal(req.params.logprobs, true);
  assert.equal(req.params.topNTokens, 2);
  assert.equal(req.params.decoderInputDetails, true, 'echo with logprobs reports the prompt tokens');
  assert.equal(req.params.returnFullText, true);
  assert.equal(req.fields.maxNewTokens, 'max_tokens');
  assert.equal(req.fields.topNTokens, 'logprobs');
});

test('completionRequest refuses what it cannot serve with the field named', () => {
  const fails = (body: unknown, kind: typeof ValidationError | typeof UnsupportedError, param: string | null) =>
    assert.throws(
      () => completionRequest(body),
      (e: unknown) => e instanceof kind && e.param === param,
    );
  fails('hi', ValidationError, null);
  fails({ model: 'x' }, ValidationError, 'prompt');
  fails({ prompt: 'x', suffix: 'y' }, UnsupportedError, 'suffix');
  fails({ prompt: 'x', logprobs: 1.5 }, ValidationError, 'logprobs');
  fails({ prompt: 'x', stream_options: 'yes' }, ValidationError, 'stream_options');
});

test('usage counts each prompt once per group of choices and sums every completion; EOS and stop strings are “stop”', () => {
  const ends = [
    endEvent({ inputLength: 3, generatedTokens: 2 }),
    endEvent({ inputLength: 3, generatedTokens: 5 }),
    endEvent({ inputLength: 7, generatedTokens: 1 }),
  ];
  assert.deepEqual(usage(ends, 2), { prompt_tokens: 10, completion_tokens: 8, total_tokens: 18 });
  assert.deepEqual(usage(ends), { prompt_tokens: 3, completion_tokens: 8, total_tokens: 11 });
  assert.equal(openAIFinishReason('eos_token'), 'stop');
  assert.equal(openAIFinishReason('stop_sequence'), 'stop');
  assert.equal(openAIFinishReason('length'), 'length');
});

test('completionResponse: one choice per finished sequence, logprobs only when asked, usage over all sequences', () => {
  const a = finished([tokenEvent(0, 'a')], endEvent({ generatedText: 'a', generatedTokens: 1, finishReason: 'eos_token' }));
  const b = finished([tokenEvent(0, 'b')], endEvent({ generatedText: 'b', generatedTokens: 1 }));
  const res = completionResponse(ctx, [a, b], false, [a.end, b.end], 2);
  assert.equal(res.object, 'text_completion');
  assert.equal(res.id, 'cmpl-1');
  assert.deepEqual(
    res.choices.map((c) => [c.index, c.text, c.finish_reason, c.logprobs]),
    [
      [0, 'a', 'stop', null],
      [1, 'b', 'length', null],
    ],
  );
  assert.deepEqual(res.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  assert.deepEqual(completionResponse(ctx, [a], true, [a.end], 1).choices[0]?.logprobs?.tokens, ['a']);
});

test('CompletionStreamTranslator: echo comes with the first token; empty deltas send nothing; the finish chunk ends the choice', () => {
  const t = new CompletionStreamTranslator(ctx, { index: 1, includeUsage: true, echo: 'Hi' });
  const first = t.token(tokenEvent(0, 'a'));
  assert.equal(first[0]?.choices[0]?.text, 'Hia');
  assert.equal(first[0]?.choices[0]?.index, 1);
  assert.equal(first[0]?.usage, null, 'include_usage: every chunk has usage null');
  assert.deepEqual(t.token(tokenEvent(1, '\u00e9', { delta: '' })), [], 'an incomplete UTF-8 token adds no text');
  const end = t.end(endEvent());
  assert.equal(end[0]?.choices[0]?.finish_reason, 'length');
  assert.equal(end[0]?.choices[0]?.text, '');
  const withLogprobs = new CompletionStreamTranslator(ctx, { includeUsage: false, echo: null, logprobs: true });
  withLogprobs.token(tokenEvent(0, 'ab'));
  const second = withLogprobs.token(tokenEvent(1, 'c', { logprob: -1 }));
  assert.deepEqual(
    second[0]?.choices[0]?.logprobs,
    { tokens: ['c'], token_logprobs: [-1], top_logprobs: [{ c: -1 }], text_offset: [2] },
    'each chunk carries its own entry',
  );
  assert.equal('usage' in (second[0] ?? {}), false);
});

test('the usage chunk has no choices; the model list names the served model; ids carry their prefix', () => {
  const chunk = completionUsageChunk(ctx, [endEvent()], 1);
  assert.deepEqual(chunk.choices, []);
  assert.equal(chunk.usage?.total_tokens, 5);
  assert.deepEqual(modelList('m', 5, 64).data, [{ id: 'm', object: 'model', created: 5, owned_by: 'tessera', max_model_len: 64 }]);
  assert.match(responseContext('cmpl', 'm', 'fp').id, /^cmpl-[0-9a-f]{24}$/);
});
