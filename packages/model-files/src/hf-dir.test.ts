import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadHfDir } from './hf-dir.ts';
import { writeSafetensors, f32Bytes } from './safetensors-writer.test-helper.ts';
import { tempDir, tinyConfig, writeTinyHfDir } from './tiny-model.test-helper.ts';
import { ModelLoadError } from './types.ts';

const write = (dir: string, name: string, value: unknown) => fs.writeFileSync(path.join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));

async function assertLoadError(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadHfDir(dir), (e: unknown) => {
    assert.ok(e instanceof ModelLoadError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

test('loads config, every canonical tensor, tokenizer files and generation defaults', async (t) => {
  const dir = tempDir(t);
  const config = tinyConfig();
  const tensors = writeTinyHfDir(dir, config, { eos_token_id: 1 });
  write(dir, 'tokenizer_config.json', {
    bos_token: '<s>',
    eos_token: '</s>',
    chat_template: [
      { name: 'tool_use', template: 'T' },
      { name: 'default', template: 'D' },
    ],
  });
  write(dir, 'generation_config.json', {
    bos_token_id: 0,
    eos_token_id: [1, 3],
    temperature: 0.7,
    top_p: 0.9,
    top_k: 40,
    do_sample: true,
    repetition_penalty: 1.1,
    max_new_tokens: 99,
  });
  const model = await loadHfDir(dir);
  assert.equal(model.format, 'hf');
  assert.deepEqual(model.config, config);
  assert.deepEqual(model.tensorNames(), [...tensors.keys()]);
  for (const [name, tensor] of tensors) assert.deepEqual(model.tensor(name), tensor, name);
  assert.equal(model.tokenizer.chatTemplate, 'D');
  assert.deepEqual(model.generation, {
    bosTokenId: 0,
    eosTokenIds: [1, 3],
    temperature: 0.7,
    topP: 0.9,
    topK: 40,
    doSample: true,
    repetitionPenalty: 1.1,
    maxNewTokens: 99,
  });
  assert.equal(model.bosTokenId, 0);
  assert.deepEqual(model.eosTokenIds, [1, 3]);
  assert.match(model.digest, /^[0-9a-f]{64}$/);
  assert.throws(
    () => model.tensor('model.layers.9.mlp.up_proj.weight'),
    /model\.safetensors: tensor "model\.layers\.9\.mlp\.up_proj\.weight" is not a tensor of this model/,
  );
});

test('special tokens fall back to tokenizer_config strings; chat_template.jinja overrides; special_tokens_map fills gaps', async (t) => {
  const dir = tempDir(t);
  writeTinyHfDir(dir, tinyConfig());
  write(dir, 'tokenizer_config.json', { eos_token: { content: '</s>' }, chat_template: 'from config' });
  write(dir, 'special_tokens_map.json', { bos_token: '<s>', eos_token: 'ignored' });
  write(dir, 'chat_template.jinja', '{{ messages[0].content }}');
  const model = await loadHfDir(dir);
  assert.equal(model.bosTokenId, 0);
  assert.deepEqual(model.eosTokenIds, [1]);
  assert.equal(model.tokenizer.chatTemplate, '{{ messages[0].content }}');
  assert.equal(model.tokenizer.tokenizerConfig['bos_token'], '<s>');
  assert.deepEqual(model.generation, {});
});

test('tied embeddings: lm_head.weight absent is fine when tied or unstated, an error when config says untied', async (t) => {
  const dir = tempDir(t);
  const tied = writeTinyHfDir(dir, tinyConfig({ tieWordEmbeddings: true }));
  assert.equal(tied.has('lm_head.weight'), false);
  const model = await loadHfDir(dir);
  assert.equal(model.config.tieWordEmbeddings, true);
  assert.equal(model.tensorNames().includes('lm_head.weight'), false);

  writeTinyHfDir(dir, tinyConfig({ tieWordEmbeddings: true }), { tie_word_embeddings: undefined });
  assert.equal((await loadHfDir(dir)).config.tieWordEmbeddings, true);

  writeTinyHfDir(dir, tinyConfig({ tieWordEmbeddings: true }), { tie_word_embeddings: false });
  await assertLoadError(dir, /^model\.safetensors: tensor "lm_head\.weight" is missing and config\.json says tie_word_embeddings: false$/);
});

test('missing files, tensors, wrong shapes and unsupported architectures are named', async (t) => {
  const dir = tempDir(t);
  await assertLoadError(dir, /^config\.json: is missing from /);
  writeTinyHfDir(dir, tinyConfig());
  fs.rmSync(path.join(dir, 'tokenizer.json'));
  await assertLoadError(dir, /^tokenizer\.json: is missing from /);

  writeTinyHfDir(dir, tinyConfig(), { architectures: ['GPT2LMHeadModel'] });
  await assertLoadError(
    dir,
    /^config\.json: architecture "GPT2LMHeadModel" is not supported \(supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, SmolLM3ForCausalLM, Olmo2ForCausalLM, Phi3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, MixtralForCausalLM, Qwen3MoeForCausalLM\)$/,
  );
  writeTinyHfDir(dir, tinyConfig(), { num_attention_heads: undefined });
  await assertLoadError(dir, /^config\.json: field "num_attention_heads" is missing$/);
  writeTinyHfDir(dir, tinyConfig(), { intermediate_size: 13 });
  await assertLoadError(dir, /^model\.safetensors: tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[12,8\], expected \[13,8\]$/);
  writeTinyHfDir(dir, tinyConfig(), { architectures: ['Qwen2ForCausalLM'] });
  await assertLoadError(dir, /^model\.safetensors: tensor "model\.layers\.0\.self_attn\.q_proj\.bias" is missing$/);

  writeTinyHfDir(dir, tinyConfig());
  writeSafetensors(
    path.join(dir, 'model.safetensors'),
    ['model.embed_tokens.weight', 'lm_head.weight'].map((name) => ({ name, dtype: 'F32', shape: [16, 8], bytes: f32Bytes(new Float32Array(128)) })),
  );
  await assertLoadError(dir, /^model\.safetensors: tensor "model\.layers\.0\.input_layernorm\.weight" is missing$/);
  write(dir, 'config.json', '{ nope');
  await assertLoadError(dir, /^config\.json: is not valid JSON/);
});
