// @module Tests: one request's output side — held-back text, stop strings at the very end, specials, one terminal event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FinishReason as ShardFinish, Generation } from '@tessera/protocol';
import { TextTokenizer } from '@tessera/tokenization';
import { syntheticSentencePieceFiles } from '@tessera/testing';
import { Validator } from '../validation/validate.ts';
import type { RawParameters } from '../validation/valid-request.ts';
import { EventChannel, collect, type StreamEvent } from './events.ts';
import { RequestState } from './request-state.ts';

const tokenizer = TextTokenizer.fromFiles(syntheticSentencePieceFiles());
const validator = new Validator({ tokenizer, chatTemplate: null, limits: { maxInputTokens: 30, maxTotalTokens: 64 }, eosTokenIds: [2] });

function make(params: RawParameters) {
  const request = validator.validate({ dialect: 'tgi', input: { kind: 'text', value: 'Hello a', field: 'inputs' }, params, fields: {} });
  const channel = new EventChannel();
  const state = new RequestState(request, tokenizer, channel);
  const done = collect(channel);
  return { state, done, channel };
}
const gen = (id: number, finishReason: ShardFinish = 'FINISH_REASON_UNSPECIFIED'): Generation => ({
  requestId: 1,
  prefillTokens: null,
  tokens: { ids: [id], logprobs: [-1] },
  topTokens: [],
  finishReason,
  generatedTokens: 0,
  seed: 0,
});

test('text held back as a possible stop prefix is released when generation ends by length', async () => {
  const { state, done } = make({ maxNewTokens: 3, stop: ['dx'] });
  assert.equal(state.onGeneration(gen(261)), false); // b
  assert.equal(state.onGeneration(gen(262)), false); // c
  assert.equal(state.onGeneration(gen(263)), true); // d: held ("dx"?), then flushed at the end
  const { tokens, end } = await done;
  assert.deepEqual(
    tokens.map((t) => t.delta),
    ['b', 'c', 'd'],
  );
  assert.equal(end.finishReason, 'length');
  assert.equal(end.generatedText, 'bcd');
});

test('a stop string split over tokens ends generation with stop_sequence and is cut from the text', async () => {
  const { state, done } = make({ maxNewTokens: 10, stop: ['cd'] });
  state.onGeneration(gen(261));
  assert.equal(state.onGeneration(gen(262)), false);
  assert.equal(state.onGeneration(gen(263)), true);
  const { end } = await done;
  assert.equal(end.finishReason, 'stop_sequence');
  assert.equal(end.stop, 'cd');
  assert.equal(end.generatedText, 'b');
  assert.equal(end.generatedTokens, 3);
});

test('EOS from the shard: special token listed, not in the text; return_full_text prepends the prompt', async () => {
  const { state, done } = make({ maxNewTokens: 10, returnFullText: true });
  state.onGeneration(gen(261));
  assert.equal(state.onGeneration(gen(2, 'FINISH_REASON_EOS_TOKEN')), true);
  const { tokens, end } = await done;
  assert.equal(tokens[1]!.token.special, true);
  assert.equal(tokens[1]!.delta, '');
  assert.equal(end.finishReason, 'eos_token');
  assert.equal(end.generatedText, 'Hello ab');
});

test('cancel ends the stream once; later generations are ignored and report finished', async () => {
  const { state, channel } = make({ maxNewTokens: 10 });
  const seen: StreamEvent[] = [];
  const reading = (async () => {
    for await (const e of channel) seen.push(e);
  })();
  state.onGeneration(gen(261));
  state.cancel();
  assert.equal(state.onGeneration(gen(262)), true);
  state.onError('late failure');
  await reading;
  assert.deepEqual(
    seen.map((e) => e.type),
    ['token', 'error'],
  );
  assert.equal((seen[1] as { errorType: string }).errorType, 'cancelled');
});

test('stop strings only count once min_new_tokens are generated (vLLM semantics)', async () => {
  const { state, done } = make({ maxNewTokens: 10, minNewTokens: 2, stop: ['b'] });
  assert.equal(state.onGeneration(gen(261)), false); // b: the 1st token, below min_new_tokens
  assert.equal(state.onGeneration(gen(262)), false); // c
  assert.equal(state.onGeneration(gen(261)), true); // b again: now it stops
  const { end } = await done;
  assert.equal(end.finishReason, 'stop_sequence');
  assert.equal(end.generatedText, 'bc');
});
