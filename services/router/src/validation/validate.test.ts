// @module Tests: validate() — defaults, limits, type errors naming the field, tokenization paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatTemplate, TextTokenizer } from '@tessera/tokenization';
import { syntheticSentencePieceFiles } from '@tessera/testing';
import { UnsupportedError, ValidationError } from '../errors.ts';
import type { GenerateRequest, RawParameters } from './valid-request.ts';
import { Validator, type ValidatorDeps } from './validate.ts';

const tokenizer = TextTokenizer.fromFiles(syntheticSentencePieceFiles());
const deps = (over: Partial<ValidatorDeps> = {}): ValidatorDeps => ({
  tokenizer,
  chatTemplate: new ChatTemplate("{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"),
  limits: { maxInputTokens: 20, maxTotalTokens: 32 },
  eosTokenIds: [2],
  ...over,
});
const v = new Validator(deps());
const tgi = (inputs: unknown, params: RawParameters = {}, fields: GenerateRequest['fields'] = {}): GenerateRequest => ({
  dialect: 'tgi',
  input: { kind: 'text', value: inputs, field: 'inputs' },
  params,
  fields,
});
const oai = (prompt: unknown, params: RawParameters = {}, fields: GenerateRequest['fields'] = {}): GenerateRequest => ({
  dialect: 'openai',
  input: { kind: 'prompt', value: prompt, field: 'prompt' },
  params,
  fields,
});

/** Asserts a ValidationError (or subclass) naming `param` whose message mentions `text`. */
function rejects(req: GenerateRequest, param: string, text: RegExp, cls: typeof ValidationError | typeof UnsupportedError = ValidationError) {
  assert.throws(
    () => v.validate(req),
    (err: unknown) => {
      assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
      assert.equal((err as ValidationError).param, param);
      assert.match((err as Error).message, text);
      return true;
    },
  );
}

test('TGI text: BOS added, greedy by default, max_new_tokens = rest of the context', () => {
  const r = v.validate(tgi('Hello world'));
  assert.deepEqual(r.inputIds, [1, 303, 299, 304]);
  assert.equal(r.stopping.maxNewTokens, 32 - 4);
  assert.equal(r.totalTokens, 32);
  assert.equal(r.parameters.doSample, false);
  assert.equal(r.parameters.temperature, 0);
  assert.equal(r.seed, null);
  assert.deepEqual(r.stopping.stopTokenIds, [2]);
  assert.equal(r.promptText, 'Hello world');
});

test('TGI: a warper or do_sample turns sampling on, with a seed reported', () => {
  const r = v.validate(tgi('Hello', { temperature: 0.7 }));
  assert.equal(r.parameters.doSample, true);
  assert.equal(r.parameters.temperature, 0.7);
  assert.equal(typeof r.seed, 'number');
  const s = v.validate(tgi('Hello', { doSample: true, seed: 42 }));
  assert.equal(s.seed, 42);
  assert.equal(s.parameters.seed, 42);
  assert.equal(v.validate(tgi('Hello', { temperature: 0, doSample: true })).parameters.doSample, false);
});

test('OpenAI: samples at temperature 1 by default, generation_config defaults apply, 0 is greedy', () => {
  const r = v.validate(oai('Hello'));
  assert.equal(r.parameters.doSample, true);
  assert.equal(r.parameters.temperature, 1);
  const g = new Validator(deps({ generation: { temperature: 0.6, topP: 0.9 } })).validate(oai('Hello'));
  assert.equal(g.parameters.temperature, 0.6);
  assert.ok(Math.abs(g.parameters.topP - 0.9) < 1e-9);
  assert.equal(v.validate(oai('Hello', { temperature: 0 })).parameters.doSample, false);
});

test('OpenAI prompt shapes: string, [string], token ids, [token ids]', () => {
  assert.deepEqual(v.validate(oai(['Hello'])).inputIds, [1, 303]);
  assert.deepEqual(v.validate(oai([5, 6, 7])).inputIds, [5, 6, 7]);
  assert.deepEqual(v.validate(oai([[5, 6]])).inputIds, [5, 6]);
  rejects(oai(['a', 'b']), 'prompt', /several prompts/);
  rejects(oai([1, 99999]), 'prompt', /outside the vocabulary/);
  rejects(oai({ x: 1 }), 'prompt', /must be a string/);
});

test('limits: prompt too long, prompt + max_new_tokens too long, truncate', () => {
  const long = 'a '.repeat(30);
  rejects(tgi(long), 'inputs', /less than 21 tokens/);
  rejects(tgi('Hello', { maxNewTokens: 31 }, { maxNewTokens: 'max_new_tokens' }), 'max_new_tokens', /must be ≤ 32 \(max_total_tokens\)/);
  const t = v.validate(tgi(long, { truncate: 5 }));
  assert.equal(t.inputIds.length, 5);
  rejects(tgi('x', { truncate: 21 }), 'truncate', /≤ 20/);
});

test('every numeric parameter names itself and its rule when out of range or mistyped', () => {
  const cases: [RawParameters, string, RegExp][] = [
    [{ maxNewTokens: 0 }, 'maxNewTokens', /integer ≥ 1/],
    [{ maxNewTokens: 2.5 }, 'maxNewTokens', /integer/],
    [{ temperature: -1 }, 'temperature', /≥ 0/],
    [{ temperature: 'hot' }, 'temperature', /number/],
    [{ topK: 0 }, 'topK', /≥ 1/],
    [{ topP: 0 }, 'topP', /\(0, 1\]/],
    [{ topP: 1.5 }, 'topP', /\(0, 1\]/],
    [{ seed: -3 }, 'seed', /≥ 0/],
    [{ repetitionPenalty: 0 }, 'repetitionPenalty', /> 0/],
    [{ frequencyPenalty: 3 }, 'frequencyPenalty', /\[-2, 2\]/],
    [{ presencePenalty: -2.5 }, 'presencePenalty', /\[-2, 2\]/],
    [{ topNTokens: 21 }, 'topNTokens', /\[0, 20\]/],
    [{ details: 'yes' }, 'details', /boolean/],
    [{ stream: 1 }, 'stream', /boolean/],
  ];
  for (const [params, field, msg] of cases) rejects(tgi('Hello', params), field, msg);
  rejects(tgi('Hello', { topP: 0 }, { topP: 'top_p' }), 'top_p', /`top_p`/);
});

test('stop: string or ≤ 4 non-empty strings', () => {
  assert.deepEqual(v.validate(oai('x', { stop: 'END' })).stopping.stopSequences, ['END']);
  assert.deepEqual(v.validate(oai('x', { stop: ['a', 'b'] })).stopping.stopSequences, ['a', 'b']);
  rejects(oai('x', { stop: ['a', 'b', 'c', 'd', 'e'] }), 'stop', /at most 4/);
  rejects(oai('x', { stop: [1] }), 'stop', /string/);
  rejects(oai('x', { stop: [''] }), 'stop', /empty/);
});

test('n / best_of reach validation only as 1 (the API layer fans them out); watermark refused; decoder_input_details not streamed', () => {
  rejects(oai('x', { n: 2 }, { n: 'n' }), 'n', /must be 1/, UnsupportedError);
  assert.equal(v.validate(oai('x', { n: 1 })).stopping.maxNewTokens > 0, true);
  rejects(tgi('x', { bestOf: 2 }, { bestOf: 'best_of' }), 'best_of', /best_of/, UnsupportedError);
  rejects(tgi('x', { watermark: true }, { watermark: 'watermark' }), 'watermark', /not supported/, UnsupportedError);
  const d = v.validate(tgi('x', { decoderInputDetails: true }));
  assert.equal(d.promptLogprobs, true);
  assert.equal(d.details, true);
  rejects(tgi('x', { decoderInputDetails: true, stream: true }, { decoderInputDetails: 'decoder_input_details' }), 'decoder_input_details', /streaming/);
});

test('stop_token_ids join the EOS ids (and survive ignore_eos); add_special_tokens; top_k -1 on OpenAI', () => {
  assert.deepEqual(v.validate(oai('x', { stopTokenIds: [7, 2] })).stopping.stopTokenIds, [2, 7]);
  assert.deepEqual(v.validate(oai('x', { stopTokenIds: [7], ignoreEos: true })).stopping.stopTokenIds, [7]);
  rejects(oai('x', { stopTokenIds: [99999] }, { stopTokenIds: 'stop_token_ids' }), 'stop_token_ids', /token ids/);
  assert.deepEqual(v.validate(oai('Hello', { addSpecialTokens: false })).inputIds, [303]);
  assert.equal(v.validate(oai('x', { topK: -1 })).parameters.topK, 0);
  rejects(tgi('x', { topK: 0 }, { topK: 'top_k' }), 'top_k', /≥ 1/);
});

test('ignore_eos clears stop token ids; min_tokens is bounded by max_new_tokens', () => {
  assert.deepEqual(v.validate(oai('x', { ignoreEos: true })).stopping.stopTokenIds, []);
  assert.equal(v.validate(oai('x', { minNewTokens: 3, maxNewTokens: 5 })).stopping.minNewTokens, 3);
  rejects(oai('x', { minNewTokens: 6, maxNewTokens: 5 }), 'minNewTokens', /\[0, 5\]/);
});

test('logit_bias keys must be token ids in the vocabulary', () => {
  assert.deepEqual(v.validate(oai('x', { logitBias: { '5': -100 } })).parameters.logitBias, { 5: -100 });
  rejects(oai('x', { logitBias: { '9999': 1 } }), 'logitBias', /unknown token id/);
  rejects(oai('x', { logitBias: { '5': 101 } }), 'logitBias', /\[-100, 100\]/);
});

test('chat: the template renders (its own BOS, no second one) and messages are checked', () => {
  const chat = (messages: unknown): GenerateRequest => ({
    dialect: 'openai',
    input: { kind: 'chat', value: messages, field: 'messages' },
    params: {},
    fields: {},
  });
  const r = v.validate(chat([{ role: 'user', content: 'Hello' }]));
  assert.equal(r.inputIds[0], 1);
  assert.notEqual(r.inputIds[1], 1);
  assert.equal(tokenizer.decode([...r.inputIds], { skipSpecialTokens: true }), 'user: Hello\n');
  rejects(chat([]), 'messages', /non-empty array/);
  rejects(chat([{ content: 'x' }]), 'messages', /role/);
  rejects(chat([{ role: 'user', content: 5 }]), 'messages', /content/);
  const none = new Validator(deps({ chatTemplate: null, chatTemplateError: 'this model has no chat template' }));
  assert.throws(() => none.validate(chat([{ role: 'user', content: 'x' }])), /no chat template/);
});

test('top_logprobs needs logprobs on chat; TGI inputs may not be empty', () => {
  const chat: GenerateRequest = {
    dialect: 'openai',
    input: { kind: 'chat', value: [{ role: 'user', content: 'x' }], field: 'messages' },
    params: { topNTokens: 2 },
    fields: { topNTokens: 'top_logprobs', logprobs: 'logprobs' },
  };
  rejects(chat, 'top_logprobs', /requires `logprobs`/);
  rejects(tgi(''), 'inputs', /cannot be empty/);
  rejects(tgi(42), 'inputs', /must be a string/);
});

test('a prompt that cannot fit even at the most compact tokenization is refused by its length, before tokenizing; truncate lifts it', () => {
  // 20 input tokens × at most 8 bytes per token (the synthetic vocabulary): 161 bytes can never fit.
  assert.equal(tokenizer.maxBytesPerToken, 8);
  rejects(tgi('a'.repeat(161)), 'inputs', /must have less than 21 tokens \(max_input_tokens\)\. Given: at least 21 \(161 UTF-8 bytes, at most 8 per token\)/);
  // Within the bound it is tokenized and judged by its real count.
  rejects(tgi('a b '.repeat(40)), 'inputs', /must have less than 21 tokens \(max_input_tokens\)\. Given: \d+$/);
  const truncated = v.validate(tgi('a'.repeat(400), { truncate: 5, maxNewTokens: 2 }));
  assert.equal(truncated.inputIds.length, 5);
});
