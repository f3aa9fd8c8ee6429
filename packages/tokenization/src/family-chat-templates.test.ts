// @module The chat templates the supported families publish, rendered through @huggingface/jinja as transformers renders them.
//
// fixtures/chat-templates/*.jinja are the templates' real text: qwen3, smollm3, gemma2, phi3.5 and mistral-nemo
// as llama.cpp keeps them (models/templates/), olmo2 from allenai/OLMo-2-1124-13B-Instruct's tokenizer_config.json,
// gemma3 from google/gemma-3's tokenizer_config.json; phi4 from microsoft/phi-4's tokenizer_config.json, phi4-mini
// from microsoft/Phi-4-mini-instruct's (as Microsoft's ONNX Runtime GenAI builds ship it), mixtral from
// mistralai/Mixtral-8x7B-Instruct-v0.1's. The tool-calling ones (rendered in services/router/src/api/tools.test.ts):
// qwen2.5 from Qwen/Qwen2.5-7B-Instruct's tokenizer_config.json, llama3.1 from meta-llama/Llama-3.1-8B-Instruct's,
// llama3.1-json-tools from vLLM's examples/tool_chat_template_llama3.1_json.jinja.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ChatTemplate, type ChatMessage } from './chat-template.ts';

const template = (name: string) => new ChatTemplate(fs.readFileSync(new URL(`../fixtures/chat-templates/${name}.jinja`, import.meta.url), 'utf8'));
const tokens = { bosToken: '<BOS>', eosToken: '<EOS>' };
const chat: ChatMessage[] = [
  { role: 'user', content: 'Hi there' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'What is 2+2?' },
];
const withSystem: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi there' },
];

test('Qwen3: ChatML; enable_thinking false closes an empty think block', () => {
  const t = template('qwen3');
  assert.equal(
    t.render(chat, tokens),
    '<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n',
  );
  assert.equal(t.render(withSystem, tokens), '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n');
  assert.ok(t.render(chat, { ...tokens, extra: { enable_thinking: false } }).endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
});

test('SmolLM3: a metadata system block (reasoning mode, the default or the given instructions), then ChatML', () => {
  const t = template('smollm3');
  const rendered = t.render(withSystem, tokens);
  assert.ok(
    rendered.startsWith(
      '<|im_start|>system\n## Metadata\n\nKnowledge Cutoff Date: June 2025\nReasoning Mode: /think\n\n## Custom Instructions\n\nBe brief.\n\n<|im_end|>\n',
    ),
    rendered,
  );
  assert.ok(rendered.endsWith('<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n'));
  assert.match(t.render(chat, tokens), /You are a helpful AI assistant named SmolLM/);
  assert.match(t.render(chat, { ...tokens, extra: { enable_thinking: false } }), /Reasoning Mode: \/no_think/);
});

test('OLMo 2: <|system|> / <|user|> / <|assistant|> turns after BOS, assistant turns closed by EOS', () => {
  const t = template('olmo2');
  assert.equal(t.render(chat, tokens), '<BOS><|user|>\nHi there\n<|assistant|>\nHello!<EOS>\n<|user|>\nWhat is 2+2?\n<|assistant|>\n');
  assert.equal(t.render(withSystem, tokens), '<BOS><|system|>\nBe brief.\n<|user|>\nHi there\n<|assistant|>\n');
});

test('Phi-3.5: <|role|> turns closed by <|end|>', () => {
  const t = template('phi3.5');
  assert.equal(t.render(chat, tokens), '<|user|>\nHi there<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n');
  assert.equal(t.render(withSystem, tokens), '<|system|>\nBe brief.<|end|>\n<|user|>\nHi there<|end|>\n<|assistant|>\n');
});

test('Gemma 2 refuses a system message; Gemma 3 folds it into the first user turn; both name the assistant "model"', () => {
  const expected =
    '<BOS><start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n';
  assert.equal(template('gemma2').render(chat, tokens), expected);
  assert.throws(() => template('gemma2').render(withSystem, tokens), /System role not supported/);
  assert.equal(template('gemma3').render(chat, tokens), expected);
  assert.equal(template('gemma3').render(withSystem, tokens), '<BOS><start_of_turn>user\nBe brief.\n\nHi there<end_of_turn>\n<start_of_turn>model\n');
  assert.throws(() => template('gemma3').render([{ role: 'assistant', content: 'x' }], tokens), /Conversation roles must alternate/);
});

test('Mistral NeMo (tekken): [INST] turns, the system message joined to the last user turn', () => {
  const t = template('mistral-nemo');
  assert.equal(t.render(chat, tokens), '<BOS>[INST]Hi there[/INST]Hello!<EOS>[INST]What is 2+2?[/INST]');
  assert.equal(t.render(withSystem, tokens), '<BOS>[INST]Be brief.\n\nHi there[/INST]');
});

test('Phi-4: <|im_start|>role<|im_sep|> turns closed by <|im_end|>, no newlines, no BOS', () => {
  const t = template('phi4');
  assert.equal(
    t.render(chat, tokens),
    '<|im_start|>user<|im_sep|>Hi there<|im_end|><|im_start|>assistant<|im_sep|>Hello!<|im_end|><|im_start|>user<|im_sep|>What is 2+2?<|im_end|><|im_start|>assistant<|im_sep|>',
  );
  assert.equal(
    t.render(withSystem, tokens),
    '<|im_start|>system<|im_sep|>Be brief.<|im_end|><|im_start|>user<|im_sep|>Hi there<|im_end|><|im_start|>assistant<|im_sep|>',
  );
});

test('Phi-4-mini: <|role|> turns closed by <|end|> without newlines; tools ride on the system turn', () => {
  const t = template('phi4-mini');
  assert.equal(t.render(chat, tokens), '<|user|>Hi there<|end|><|assistant|>Hello!<|end|><|user|>What is 2+2?<|end|><|assistant|>');
  assert.equal(t.render(withSystem, tokens), '<|system|>Be brief.<|end|><|user|>Hi there<|end|><|assistant|>');
  const withTools = [{ role: 'system', content: 'Be brief.', tools: '[{"name": "add"}]' }, withSystem[1]!] as ChatMessage[];
  assert.equal(t.render(withTools, tokens), '<|system|>Be brief.<|tool|>[{"name": "add"}]<|/tool|><|end|><|user|>Hi there<|end|><|assistant|>');
});

test('Mixtral: BOS, " [INST] … [/INST]" turns, the system message joined to the first user turn, roles must alternate', () => {
  const t = template('mixtral');
  assert.equal(t.render(chat, tokens), '<BOS> [INST] Hi there [/INST] Hello!<EOS> [INST] What is 2+2? [/INST]');
  assert.equal(t.render(withSystem, tokens), '<BOS> [INST] Be brief.\n\nHi there [/INST]');
  assert.throws(() => t.render([{ role: 'assistant', content: 'x' }], tokens), /conversation roles must alternate/);
});
