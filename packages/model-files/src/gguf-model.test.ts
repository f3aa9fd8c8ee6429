import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { GgmlType } from './gguf.ts';
import { ggufNameForHf, hfNameForGguf, loadGgufModel } from './gguf-model.ts';
import { gv } from './gguf-writer.test-helper.ts';
import { ggufNameOf, tempDir, tinyConfig, writeTinyGguf } from './tiny-model.test-helper.ts';
import { ModelLoadError } from './types.ts';

async function assertLoadError(file: string, message: string): Promise<void> {
  await assert.rejects(loadGgufModel(file), (e: unknown) => {
    assert.ok(e instanceof ModelLoadError, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

test('GGUF names map to HF names and back', () => {
  assert.equal(hfNameForGguf('token_embd.weight'), 'model.embed_tokens.weight');
  assert.equal(hfNameForGguf('blk.12.attn_output.weight'), 'model.layers.12.self_attn.o_proj.weight');
  assert.equal(hfNameForGguf('blk.3.attn_k.bias'), 'model.layers.3.self_attn.k_proj.bias');
  assert.equal(hfNameForGguf('blk.0.ffn_norm.weight'), 'model.layers.0.post_attention_layernorm.weight');
  assert.equal(hfNameForGguf('rope_freqs.weight'), undefined);
  for (const name of ['lm_head.weight', 'model.norm.weight', 'model.layers.1.mlp.down_proj.weight']) {
    assert.equal(hfNameForGguf(ggufNameOf(name)), name);
    assert.equal(ggufNameForHf(name), ggufNameOf(name));
  }
});

test('a llama GGUF loads with HF names, shapes and un-permuted Q/K equal to the HF tensors', async (t) => {
  const file = path.join(tempDir(t), 'tiny.gguf');
  const config = tinyConfig();
  const tensors = writeTinyGguf(file, config);
  const model = await loadGgufModel(file);
  assert.equal(model.format, 'gguf');
  assert.deepEqual(model.config, config);
  assert.deepEqual(model.tensorNames(), [...tensors.keys()]);
  for (const [name, tensor] of tensors) assert.deepEqual(model.tensor(name), tensor, name);
  assert.equal(model.bosTokenId, 4);
  assert.deepEqual(model.eosTokenIds, [3]);
  assert.deepEqual(model.generation, { bosTokenId: 4, eosTokenIds: [3] });
});

test('a qwen2 GGUF keeps Q/K in HF order and has biases; no output.weight means tied', async (t) => {
  const file = path.join(tempDir(t), 'qwen.gguf');
  const config = tinyConfig({ architecture: 'Qwen2ForCausalLM', attentionBias: true, tieWordEmbeddings: true });
  const tensors = writeTinyGguf(file, config);
  const model = await loadGgufModel(file);
  assert.deepEqual(model.config, config);
  assert.ok(model.tensorNames().includes('model.layers.1.self_attn.k_proj.bias'));
  assert.ok(!model.tensorNames().includes('lm_head.weight'));
  for (const [name, tensor] of tensors) assert.deepEqual(model.tensor(name), tensor, name);
});

test('linear rope scaling and rms epsilon come back as the decimals written', async (t) => {
  const file = path.join(tempDir(t), 'scaled.gguf');
  writeTinyGguf(file, tinyConfig({ rmsNormEps: 1e-6, ropeTheta: 500000 }), {
    extraMetadata: [
      ['llama.rope.scaling.type', gv.str('linear')],
      ['llama.rope.scaling.factor', gv.f32(2)],
    ],
  });
  const config = (await loadGgufModel(file)).config;
  assert.equal(config.rmsNormEps, 1e-6);
  assert.equal(config.ropeTheta, 500000);
  assert.deepEqual(config.ropeScaling, { type: 'linear', factor: 2 });
});

test('unsupported types, architectures, missing tensors and metadata name the file and the item', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'stories.gguf');
  writeTinyGguf(file, tinyConfig(), { tensorType: (name) => (name === 'model.layers.0.self_attn.q_proj.weight' ? 16 : GgmlType.F32) });
  await assertLoadError(
    file,
    'stories.gguf: tensor "blk.0.attn_q.weight" has unsupported type IQ2_XXS (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS)',
  );
  writeTinyGguf(file, tinyConfig(), { drop: ['model.layers.1.mlp.up_proj.weight'] });
  await assertLoadError(file, 'stories.gguf: tensor "blk.1.ffn_up.weight" is missing');
  writeTinyGguf(file, tinyConfig(), { extraMetadata: [['general.architecture', gv.str('gpt2')]] });
  await assertLoadError(
    file,
    'stories.gguf: architecture "gpt2" is not supported (supported: llama, qwen2, qwen3, smollm3, olmo2, phi3, gemma2, gemma3, qwen3moe)',
  );
  writeTinyGguf(file, tinyConfig(), { extraMetadata: [['llama.rope.scaling.type', gv.str('mrope')]] });
  await assertLoadError(
    file,
    'stories.gguf: metadata "llama.rope.scaling.type" value "mrope" is not supported (supported: none, linear, yarn, llama3 via rope_freqs, longrope via rope_factors)',
  );
  writeTinyGguf(file, tinyConfig(), { extraMetadata: [['llama.attention.head_count_kv', gv.arr(4, [1, 1])]] });
  await assertLoadError(file, 'stories.gguf: metadata "llama.attention.head_count_kv" must be a number (got [1,1])');
  writeTinyGguf(file, tinyConfig(), { extraMetadata: [['tokenizer.ggml.model', gv.str('bert')]] });
  await assertLoadError(file, 'stories.gguf: metadata "tokenizer.ggml.model" value "bert" is not supported (supported: llama, gpt2)');
});
