import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHfConfig } from './hf-config.ts';
import { ModelLoadError } from './types.ts';

const llama = {
  architectures: ['LlamaForCausalLM'],
  hidden_size: 64,
  intermediate_size: 172,
  num_hidden_layers: 5,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  vocab_size: 512,
  rms_norm_eps: 1e-5,
  max_position_embeddings: 2048,
};

function assertLoadError(json: unknown, message: string): void {
  assert.throws(
    () => parseHfConfig(json),
    (e: unknown) => e instanceof ModelLoadError && e.message === message,
  );
}

test('Llama config with defaults: head_dim from hidden/heads, theta 10000, untied, no bias', () => {
  assert.deepEqual(parseHfConfig(llama), {
    architecture: 'LlamaForCausalLM',
    hiddenSize: 64,
    intermediateSize: 172,
    numLayers: 5,
    numHeads: 8,
    numKvHeads: 4,
    headDim: 8,
    vocabSize: 512,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 2048,
    tieWordEmbeddings: false,
    attentionBias: false,
    slidingWindow: null,
  });
  const noKv = parseHfConfig({ ...llama, num_key_value_heads: undefined, head_dim: 16, attention_bias: true, tie_word_embeddings: true });
  assert.equal(noKv.numKvHeads, 8);
  assert.equal(noKv.headDim, 16);
  assert.equal(noKv.attentionBias, true);
  assert.equal(noKv.tieWordEmbeddings, true);
});

test('Qwen2 has attention bias; Mistral records sliding_window; model_type stands in for architectures', () => {
  const qwen = parseHfConfig({ ...llama, architectures: ['Qwen2ForCausalLM'], tie_word_embeddings: true, sliding_window: 4096, use_sliding_window: false });
  assert.equal(qwen.attentionBias, true);
  assert.equal(qwen.tieWordEmbeddings, true);
  assert.equal(qwen.slidingWindow, null);
  const mistral = parseHfConfig({ ...llama, architectures: ['MistralForCausalLM'], sliding_window: 4096, rope_theta: 1e6 });
  assert.equal(mistral.slidingWindow, 4096);
  assert.equal(mistral.ropeTheta, 1e6);
  assert.equal(parseHfConfig({ ...llama, architectures: undefined, model_type: 'qwen2' }).architecture, 'Qwen2ForCausalLM');
});

test('rope_scaling: llama3 (rope_type) and linear (type); "default" means none', () => {
  const llama3 = parseHfConfig({
    ...llama,
    rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
  });
  assert.deepEqual(llama3.ropeScaling, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  assert.deepEqual(parseHfConfig({ ...llama, rope_scaling: { type: 'linear', factor: 2 } }).ropeScaling, { type: 'linear', factor: 2 });
  assert.equal(parseHfConfig({ ...llama, rope_scaling: { rope_type: 'default' } }).ropeScaling, null);
});

test('errors name config.json and the field', () => {
  assertLoadError({ ...llama, num_attention_heads: undefined }, 'config.json: field "num_attention_heads" is missing');
  assertLoadError(
    { ...llama, architectures: ['GPT2LMHeadModel'] },
    'config.json: architecture "GPT2LMHeadModel" is not supported (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, SmolLM3ForCausalLM, Olmo2ForCausalLM, Phi3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, MixtralForCausalLM, Qwen3MoeForCausalLM)',
  );
  assertLoadError(
    { ...llama, rope_scaling: { type: 'mrope', factor: 4 } },
    'config.json: field "rope_scaling.type" value "mrope" is not supported (supported: linear, llama3, yarn, dynamic, longrope)',
  );
  assertLoadError({ ...llama, rope_scaling: { rope_type: 'llama3', factor: 8 } }, 'config.json: field "rope_scaling.low_freq_factor" is missing');
  assertLoadError({ ...llama, num_attention_heads: 7 }, 'config.json: field "num_attention_heads" (7) does not divide hidden_size (64)');
  assertLoadError({ ...llama, num_key_value_heads: 3 }, 'config.json: field "num_key_value_heads" (3) does not divide num_attention_heads (8)');
  assertLoadError({ ...llama, hidden_size: '64' }, 'config.json: field "hidden_size" must be a number (got "64")');
  assertLoadError({ ...llama, hidden_act: 'gelu' }, 'config.json: field "hidden_act" value "gelu" is not supported for LlamaForCausalLM (supported: silu)');
  assertLoadError(
    { ...llama, architectures: undefined, model_type: 'gpt2' },
    'config.json: model_type "gpt2" is not supported (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, SmolLM3ForCausalLM, Olmo2ForCausalLM, Phi3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, MixtralForCausalLM, Qwen3MoeForCausalLM)',
  );
  assertLoadError([], 'config.json: must be a JSON object');
});
