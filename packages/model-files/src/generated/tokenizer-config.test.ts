// @module Tests of the ChatML template (rendered with @huggingface/jinja) and the special-token configs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { CHATML_TEMPLATE, generationConfigJson, tokenizerConfigJson } from './tokenizer-config.ts';
import { buildGeneratedTokenizer } from './tokenizer-json.ts';

const messages = [
  { role: 'user', content: 'Hello!' },
  { role: 'assistant', content: 'Hi, how can I help?' },
];

test('ChatML template renders a two-message conversation', () => {
  const rendered = new Template(CHATML_TEMPLATE).render({ messages, add_generation_prompt: false });
  assert.equal(rendered, '<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\nHi, how can I help?<|im_end|>\n');
});

test('ChatML template appends the assistant header when asked, and the rendered text tokenizes to the specials', () => {
  const config = tokenizerConfigJson(2048);
  const rendered = new Template(config['chat_template'] as string).render({
    messages: messages.slice(0, 1),
    add_generation_prompt: true,
  });
  assert.equal(rendered, '<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n');
  const tokenizer = new Tokenizer(buildGeneratedTokenizer(2048).tokenizerJson, config);
  const ids = tokenizer.encode(rendered).ids;
  assert.deepEqual(
    ids.filter((id: number) => id <= 2),
    [1, 2, 1],
  );
  assert.equal(tokenizer.decode(ids), rendered);
});

test('configs agree on ids: no BOS added, EOS is <|im_end|> (2) then <|endoftext|> (0)', () => {
  const config = tokenizerConfigJson(4096);
  assert.equal(config['add_bos_token'], false);
  assert.equal(config['eos_token'], '<|im_end|>');
  assert.equal(config['model_max_length'], 4096);
  assert.deepEqual(generationConfigJson()['eos_token_id'], [2, 0]);
  assert.equal(generationConfigJson()['bos_token_id'], 0);
});
