// @module Tests: which prompts Infer.encode tokenizes on the event loop (short text, token ids) and which go to the encoder threads (long text, chats); the result is the same either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatTemplate, TextTokenizer } from '@tessera/tokenization';
import { syntheticSentencePieceFiles } from '@tessera/testing';
import { TEST_CHAT_TEMPLATE } from '../testing/router-harness.ts';
import type { GenerateRequest, PromptInput } from '../validation/valid-request.ts';
import { inlineEncoder, type PromptEncoder } from '../validation/prompt-encoder.ts';
import { Validator } from '../validation/validate.ts';
import { INLINE_PROMPT_CHARS, Infer } from './infer.ts';

const files = { ...syntheticSentencePieceFiles(), chatTemplate: TEST_CHAT_TEMPLATE };
const tokenizer = TextTokenizer.fromFiles(files);
const validator = new Validator({
  tokenizer,
  chatTemplate: new ChatTemplate(TEST_CHAT_TEMPLATE),
  limits: { maxInputTokens: 4096, maxTotalTokens: 4200 },
  eosTokenIds: [2],
});

test('short text and token ids are encoded on the event loop, long text and chats on the encoder threads, with the same result', async () => {
  const sent: PromptInput[] = [];
  const inline = inlineEncoder(validator);
  const encoder: PromptEncoder = { ...inline, encode: (input, options) => (sent.push(input), inline.encode(input, options)) };
  const infer = new Infer({ validator, encoder, batcher: { submit: () => undefined }, tokenizer, maxConcurrentRequests: 8 });
  const request = (input: PromptInput): GenerateRequest => ({ dialect: 'tgi', input, params: {}, fields: {} });
  const options = { addSpecialTokens: undefined, truncate: undefined };
  const cases: [PromptInput, boolean][] = [
    [{ kind: 'text', value: 'a b c', field: 'inputs' }, true],
    [{ kind: 'prompt', value: ['a b c'], field: 'prompt' }, true],
    [{ kind: 'prompt', value: [5, 6, 7], field: 'prompt' }, true],
    [{ kind: 'text', value: 'a '.repeat(INLINE_PROMPT_CHARS / 2), field: 'inputs' }, true],
    [{ kind: 'text', value: `${'a '.repeat(INLINE_PROMPT_CHARS / 2)}b`, field: 'inputs' }, false],
    [{ kind: 'chat', value: [{ role: 'user', content: 'a b' }], field: 'messages' }, false],
  ];
  for (const [input, onLoop] of cases) {
    sent.length = 0;
    const encoded = await infer.encode(request(input));
    assert.deepEqual(encoded, validator.encodePrompt(input, options), JSON.stringify(input).slice(0, 60));
    assert.equal(sent.length, onLoop ? 0 : 1, `${JSON.stringify(input).slice(0, 60)}: ${onLoop ? 'on the event loop' : 'on an encoder thread'}`);
  }
  // Refusals read the same on the event loop.
  await assert.rejects(infer.encode(request({ kind: 'text', value: '', field: 'inputs' })), /`inputs` cannot be empty/);
  await assert.rejects(infer.encode(request({ kind: 'prompt', value: [1, 1e9], field: 'prompt' })), /outside the vocabulary/);
});
