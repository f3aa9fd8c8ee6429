// @module Tests: TGI wire ⇄ internal — request mapping and its 4xx, /generate bodies (details, best_of), /generate_stream events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../errors.ts';
import { endEvent, finished, prefillToken, tokenEvent, tokenInfo } from '../testing/stream-events.ts';
import { tgiGenerateRequest, tgiGenerateResponse, TgiStreamTranslator } from './tgi.ts';

test('tgiGenerateRequest maps TGI parameter names, records wire names for errors and takes the route’s stream mode', () => {
  const req = tgiGenerateRequest(
    { inputs: 'Hi', parameters: { max_new_tokens: 5, top_k: 3, do_sample: true, decoder_input_details: true }, stream: true },
    false,
  );
  assert.equal(req.dialect, 'tgi');
  assert.deepEqual(req.input, { kind: 'text', value: 'Hi', field: 'inputs' });
  assert.deepEqual(req.params, { maxNewTokens: 5, topK: 3, doSample: true, decoderInputDetails: true, stream: false });
  assert.equal(req.fields.maxNewTokens, 'max_new_tokens');
  assert.equal(req.fields.topNTokens, 'top_n_tokens', 'names known even when absent');
  assert.equal(tgiGenerateRequest({ inputs: 'x', stream: true }, null).params.stream, true, 'POST / lets the body decide');
  assert.equal(tgiGenerateRequest({ inputs: 'x', unknown_field: 1 }, null).params.stream, false, 'unknown fields ignored');
});

test('tgiGenerateRequest refuses a non-object body, a missing `inputs`, non-object parameters and a grammar without a schema', () => {
  const fails = (body: unknown, param: string) =>
    assert.throws(
      () => tgiGenerateRequest(body, false),
      (e: unknown) => e instanceof ValidationError && e.param === param,
    );
  fails([1], 'inputs');
  fails(null, 'inputs');
  fails({ parameters: {} }, 'inputs');
  fails({ inputs: 'x', parameters: 'hot' }, 'parameters');
  fails({ inputs: 'x', parameters: { grammar: { type: 'json' } } }, 'grammar.value');
  assert.doesNotThrow(() => tgiGenerateRequest({ inputs: 'x', parameters: { grammar: null } }, false));
});

test('tgiGenerateResponse: plain text without details; with details, tokens, prefill (NaN → null) and top tokens', () => {
  const tokens = [tokenEvent(0, 'a', { top: [tokenInfo(7, 'b', -2)] }), tokenEvent(1, 'b', { logprob: -Infinity })];
  const end = endEvent({ seed: 42, prefill: [prefillToken(1, '<s>', Number.NaN), prefillToken(5, 'Hi', -1.5)] });
  assert.deepEqual(tgiGenerateResponse([finished(tokens, end)], false), { generated_text: 'ab' });
  const { details } = tgiGenerateResponse([finished(tokens, end)], true);
  assert.equal(details?.finish_reason, 'length');
  assert.equal(details?.seed, 42);
  assert.deepEqual(details?.prefill, [
    { id: 1, text: '<s>', logprob: null },
    { id: 5, text: 'Hi', logprob: -1.5 },
  ]);
  assert.deepEqual(
    details?.tokens.map((t) => t.logprob),
    [-0.5, null],
    'non-finite logprobs become null',
  );
  assert.deepEqual(details?.top_tokens, [[{ id: 7, text: 'b', logprob: -2, special: false }], []]);
  assert.equal(details?.best_of_sequences, undefined);
});

test('tgiGenerateResponse with best_of: the first is returned, every other one is listed in best_of_sequences', () => {
  const best = finished([tokenEvent(0, 'x')], endEvent({ generatedText: 'x', generatedTokens: 1, seed: 1 }));
  const other = finished([tokenEvent(0, 'y')], endEvent({ generatedText: 'y', generatedTokens: 1, seed: 2, finishReason: 'eos_token' }));
  const res = tgiGenerateResponse([best, other], true);
  assert.equal(res.generated_text, 'x');
  assert.equal(res.details?.best_of_sequences?.length, 1);
  assert.equal(res.details?.best_of_sequences?.[0]?.generated_text, 'y');
  assert.equal(res.details?.best_of_sequences?.[0]?.finish_reason, 'eos_token');
  assert.equal(res.details?.best_of_sequences?.[0]?.seed, 2);
});

test('TgiStreamTranslator holds each token until the next event: the last one carries generated_text and details', () => {
  const t = new TgiStreamTranslator();
  assert.deepEqual(t.token(tokenEvent(0, 'a')), []);
  const first = t.token(tokenEvent(1, 'b', { top: [tokenInfo(9, 'c')] }));
  assert.equal(first.length, 1);
  assert.equal(first[0]?.index, 1, 'TGI indexes stream events from 1');
  assert.equal(first[0]?.generated_text, null);
  assert.equal(first[0]?.details, null);
  const last = t.end(endEvent({ seed: 3, inputLength: 4 }));
  assert.equal(last[0]?.index, 2);
  assert.equal(last[0]?.generated_text, 'ab');
  assert.deepEqual(last[0]?.details, { finish_reason: 'length', generated_tokens: 2, seed: 3, input_length: 4 });
  assert.deepEqual(last[0]?.top_tokens, [{ id: 9, text: 'c', logprob: -0.5, special: false }]);
  assert.deepEqual(new TgiStreamTranslator().end(endEvent()), [], 'no token: nothing to send');
});
