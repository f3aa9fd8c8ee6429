// Mixture-of-experts config: config.json keys of Mixtral and Qwen3-MoE, GGUF keys, sparse layers and the expected tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedTensorShapes } from './canonical-tensors.ts';
import type { GgufFile, GgufValue } from './gguf.ts';
import { ggufModelConfig } from './gguf-config.ts';
import { parseHfConfig } from './hf-config.ts';
import { isSparseLayer } from './moe-config.ts';
import { ModelLoadError } from './types.ts';

// Mixtral-8x7B-v0.1's config.json keys, at a small size.
const mixtral = {
  architectures: ['MixtralForCausalLM'],
  model_type: 'mixtral',
  hidden_size: 64,
  intermediate_size: 96,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 300,
  rms_norm_eps: 1e-5,
  rope_theta: 1e6,
  num_local_experts: 8,
  num_experts_per_tok: 2,
  sliding_window: null,
  max_position_embeddings: 32768,
  router_aux_loss_coef: 0.02,
};
// Qwen3-30B-A3B's keys, at a small size.
const qwen3moe = {
  architectures: ['Qwen3MoeForCausalLM'],
  model_type: 'qwen3_moe',
  hidden_size: 64,
  intermediate_size: 160,
  moe_intermediate_size: 32,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 32,
  vocab_size: 300,
  num_experts: 16,
  num_experts_per_tok: 4,
  norm_topk_prob: true,
  decoder_sparse_step: 1,
  mlp_only_layers: [],
  attention_bias: false,
  rms_norm_eps: 1e-6,
};

const loadError = (fn: () => unknown, message: string) => assert.throws(fn, (e: unknown) => e instanceof ModelLoadError && e.message === message);

test('Mixtral: experts as wide as intermediate_size, top-k always renormalised, every layer sparse', () => {
  const c = parseHfConfig(mixtral);
  assert.equal(c.architecture, 'MixtralForCausalLM');
  assert.deepEqual(c.moe, { numExperts: 8, topK: 2, expertIntermediateSize: 96, normTopK: true, denseLayers: [] });
  assert.equal(c.qkNorm, undefined);
  assert.equal(parseHfConfig({ ...mixtral, architectures: undefined }).architecture, 'MixtralForCausalLM', 'model_type stands in');
  const shapes = expectedTensorShapes(c);
  assert.deepEqual(shapes.get('model.layers.1.block_sparse_moe.gate.weight'), [8, 64]);
  assert.deepEqual(shapes.get('model.layers.1.block_sparse_moe.experts.7.w1.weight'), [96, 64]);
  assert.deepEqual(shapes.get('model.layers.1.block_sparse_moe.experts.7.w2.weight'), [64, 96]);
  assert.deepEqual(shapes.get('model.layers.1.block_sparse_moe.experts.7.w3.weight'), [96, 64]);
  assert.equal(shapes.has('model.layers.0.mlp.gate_proj.weight'), false);
});

test('Qwen3-MoE: moe_intermediate_size, norm_topk_prob, qk-norm, and dense layers from mlp_only_layers / decoder_sparse_step', () => {
  const c = parseHfConfig(qwen3moe);
  assert.deepEqual(c.moe, { numExperts: 16, topK: 4, expertIntermediateSize: 32, normTopK: true, denseLayers: [] });
  assert.equal(c.qkNorm, 'head');
  assert.equal(c.intermediateSize, 160);
  assert.equal(parseHfConfig({ ...qwen3moe, norm_topk_prob: undefined }).moe!.normTopK, false, "transformers' default is false");
  // decoder_sparse_step 2: layers 1 and 3 sparse; mlp_only_layers [3] makes 3 dense too.
  const mixed = parseHfConfig({ ...qwen3moe, decoder_sparse_step: 2, mlp_only_layers: [3] });
  assert.deepEqual(mixed.moe!.denseLayers, [0, 2, 3]);
  assert.deepEqual(
    [0, 1, 2, 3].map((l) => isSparseLayer(mixed, l)),
    [false, true, false, false],
  );
  const shapes = expectedTensorShapes(mixed);
  assert.deepEqual(shapes.get('model.layers.0.mlp.gate_proj.weight'), [160, 64]);
  assert.deepEqual(shapes.get('model.layers.1.mlp.experts.15.down_proj.weight'), [64, 32]);
  assert.deepEqual(shapes.get('model.layers.1.mlp.gate.weight'), [16, 64]);
  assert.deepEqual(shapes.get('model.layers.2.self_attn.q_norm.weight'), [32]);
});

test('MoE config errors name config.json and the field', () => {
  loadError(() => parseHfConfig({ ...mixtral, num_experts_per_tok: 9 }), 'config.json: field "num_experts_per_tok" (9) exceeds num_local_experts (8)');
  loadError(() => parseHfConfig({ ...qwen3moe, mlp_only_layers: [4] }), 'config.json: field "mlp_only_layers" must be a list of layer indices below 4');
  loadError(() => parseHfConfig({ ...qwen3moe, moe_intermediate_size: undefined }), 'config.json: field "moe_intermediate_size" is missing');
});

/** A GGUF header in memory: metadata and tensor shapes are all ggufModelConfig reads. */
function gguf(metadata: Record<string, GgufValue>, tensors: string[] = ['token_embd.weight', 'output.weight']): GgufFile {
  return {
    path: '/m/model.gguf',
    version: 3,
    metadata: new Map(Object.entries(metadata)),
    alignment: 32,
    dataOffset: 0,
    metadataEnd: 0,
    tensors: new Map(tensors.map((name) => [name, { name, ne: [64, 300], shape: [300, 64], type: 0, typeName: 'F32', offset: 0 }])),
  };
}
const llamaKeys = (arch: string): Record<string, GgufValue> => ({
  'general.architecture': arch,
  [`${arch}.embedding_length`]: 64,
  [`${arch}.attention.head_count`]: 4,
  [`${arch}.attention.head_count_kv`]: 2,
  [`${arch}.block_count`]: 2,
  [`${arch}.feed_forward_length`]: 96,
  [`${arch}.context_length`]: 512,
  [`${arch}.attention.layer_norm_rms_epsilon`]: 1e-5,
});

test('GGUF: `llama` with llama.expert_count is Mixtral; qwen3moe reads expert_feed_forward_length and has qk-norm', () => {
  assert.equal(ggufModelConfig(gguf(llamaKeys('llama'))).moe, undefined);
  const mixtralGguf = ggufModelConfig(gguf({ ...llamaKeys('llama'), 'llama.expert_count': 8, 'llama.expert_used_count': 2 }));
  assert.equal(mixtralGguf.architecture, 'MixtralForCausalLM');
  assert.deepEqual(mixtralGguf.moe, { numExperts: 8, topK: 2, expertIntermediateSize: 96, normTopK: true, denseLayers: [] });
  const q = ggufModelConfig(
    gguf({ ...llamaKeys('qwen3moe'), 'qwen3moe.expert_count': 16, 'qwen3moe.expert_used_count': 4, 'qwen3moe.expert_feed_forward_length': 32 }),
  );
  assert.equal(q.architecture, 'Qwen3MoeForCausalLM');
  assert.deepEqual(q.moe, { numExperts: 16, topK: 4, expertIntermediateSize: 32, normTopK: true, denseLayers: [] });
  assert.equal(q.qkNorm, 'head');
});

test('GGUF MoE errors name the file and the key', () => {
  loadError(() => ggufModelConfig(gguf(llamaKeys('qwen3moe'))), 'model.gguf: metadata "qwen3moe.expert_count" is missing (a qwen3moe file has experts)');
  loadError(
    () => ggufModelConfig(gguf({ ...llamaKeys('llama'), 'llama.expert_count': 2, 'llama.expert_used_count': 3 })),
    'model.gguf: metadata "llama.expert_used_count" (3) exceeds llama.expert_count (2)',
  );
  loadError(
    () => ggufModelConfig(gguf({ ...llamaKeys('llama'), 'llama.expert_count': 8, 'llama.expert_used_count': 2, 'llama.expert_gating_func': 2 })),
    'model.gguf: metadata "llama.expert_gating_func" value 2 is not supported (supported: 1, softmax)',
  );
});
