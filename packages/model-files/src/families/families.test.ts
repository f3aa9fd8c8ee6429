// @module Family config parsing: model_type alone selects the family; each family's structure fields from config.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHfConfig } from '../hf-config.ts';
import { familyByGgufArch, SUPPORTED_ARCHITECTURES } from './families.ts';

const shape = { hidden_size: 64, intermediate_size: 96, num_hidden_layers: 8, num_attention_heads: 4, vocab_size: 300 };

test('model_type alone selects Qwen3, SmolLM3 and OLMo 2, with their structure and defaults', () => {
  const qwen3 = parseHfConfig({ ...shape, model_type: 'qwen3', head_dim: 24 });
  assert.equal(qwen3.architecture, 'Qwen3ForCausalLM');
  assert.equal(qwen3.qkNorm, 'head');
  assert.equal(qwen3.headDim, 24);
  assert.equal(qwen3.attentionBias, false);
  assert.equal(qwen3.maxPositionEmbeddings, 32768);
  const olmo = parseHfConfig({ ...shape, model_type: 'olmo2' });
  assert.deepEqual([olmo.architecture, olmo.qkNorm, olmo.normPlacement], ['Olmo2ForCausalLM', 'projection', 'post']);
  // SmolLM3Config's default: no RoPE in every no_rope_layer_interval-th layer (4).
  const smol = parseHfConfig({ ...shape, model_type: 'smollm3' });
  assert.deepEqual(smol.ropeLayers, [true, true, true, false, true, true, true, false]);
  assert.deepEqual(parseHfConfig({ ...shape, model_type: 'smollm3', no_rope_layer_interval: 2 }).ropeLayers, [
    true,
    false,
    true,
    false,
    true,
    false,
    true,
    false,
  ]);
  assert.deepEqual(parseHfConfig({ ...shape, model_type: 'smollm3', no_rope_layers: [0, 1, 1, 1, 1, 1, 1, 1] }).ropeLayers, [
    false,
    true,
    true,
    true,
    true,
    true,
    true,
    true,
  ]);
});

test('a malformed no_rope_layers names the field; Llama keeps no family structure', () => {
  assert.throws(() => parseHfConfig({ ...shape, model_type: 'smollm3', no_rope_layers: [1, 1] }), /field "no_rope_layers" must be a list of 8 values 0 or 1/);
  const llama = parseHfConfig({ ...shape, architectures: ['LlamaForCausalLM'] });
  assert.equal(llama.qkNorm, undefined);
  assert.equal(llama.ropeLayers, undefined);
  assert.equal(llama.normPlacement, undefined);
});

test('GGUF archs resolve to families; Mistral GGUFs are llama', () => {
  assert.equal(familyByGgufArch('qwen3')?.architecture, 'Qwen3ForCausalLM');
  assert.equal(familyByGgufArch('llama')?.architecture, 'LlamaForCausalLM');
  assert.equal(familyByGgufArch('gpt2'), undefined);
  assert.equal(familyByGgufArch('gemma3')?.architecture, 'Gemma3ForCausalLM');
  assert.ok(SUPPORTED_ARCHITECTURES.includes('Olmo2ForCausalLM'));
});

test('sliding layers: Gemma 2 even layers, Gemma 3 layer_types or each sliding_window_pattern-th global, Qwen2 from max_window_layers', () => {
  const gemma2 = parseHfConfig({ ...shape, num_hidden_layers: 4, model_type: 'gemma2', hidden_act: 'gelu_pytorch_tanh', sliding_window: 4096 });
  assert.deepEqual(gemma2.slidingLayers, [true, false, true, false]);
  assert.deepEqual([gemma2.attnLogitSoftcap, gemma2.finalLogitSoftcap, gemma2.queryPreAttnScalar, gemma2.normPlacement], [50, 30, 256, 'sandwich']);
  const gemma3 = parseHfConfig({
    ...shape,
    num_hidden_layers: 7,
    model_type: 'gemma3_text',
    hidden_activation: 'gelu_pytorch_tanh',
    final_logit_softcapping: null,
    sliding_window: 512,
  });
  assert.deepEqual(gemma3.slidingLayers, [true, true, true, true, true, false, true]);
  assert.equal(gemma3.finalLogitSoftcap, undefined);
  assert.equal(gemma3.localRopeTheta, 10000);
  assert.throws(
    () => parseHfConfig({ ...shape, num_hidden_layers: 2, model_type: 'gemma3_text', layer_types: ['sliding_attention'] }),
    /field "layer_types" must list 2/,
  );
  assert.throws(
    () => parseHfConfig({ ...shape, model_type: 'gemma2', hidden_act: 'silu' }),
    /"hidden_act" value "silu" is not supported for Gemma2ForCausalLM/,
  );
  const qwen2 = parseHfConfig({ ...shape, num_hidden_layers: 4, model_type: 'qwen2', use_sliding_window: true, sliding_window: 128, max_window_layers: 2 });
  assert.deepEqual([qwen2.slidingWindow, qwen2.slidingLayers], [128, [false, false, true, true]]);
});
