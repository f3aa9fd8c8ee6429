// @module Test helper: a deterministic tiny Llama/Qwen2 model written as an HF directory or a GGUF file.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectedTensorShapes } from './canonical-tensors.ts';
import { GgmlType } from './gguf.ts';
import { gv, writeGguf, type GgufTensorEntry, type TypedValue } from './gguf-writer.test-helper.ts';
import { permuteQk } from './qk-permute.ts';
import { f32Bytes, writeSafetensors } from './safetensors-writer.test-helper.ts';
import type { FloatTensor, ModelConfig } from './types.ts';

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-model-files-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const tinyConfig = (overrides: Partial<ModelConfig> = {}): ModelConfig => ({
  architecture: 'LlamaForCausalLM',
  hiddenSize: 8,
  intermediateSize: 12,
  numLayers: 2,
  numHeads: 2,
  numKvHeads: 1,
  headDim: 4,
  vocabSize: 16,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  ropeScaling: null,
  maxPositionEmbeddings: 64,
  tieWordEmbeddings: false,
  attentionBias: false,
  slidingWindow: null,
  ...overrides,
});

/** Every canonical tensor, filled with distinct small values exactly representable in f32. */
export function tinyTensors(config: ModelConfig): Map<string, FloatTensor> {
  const tensors = new Map<string, FloatTensor>();
  let seed = 1;
  for (const [name, shape] of expectedTensorShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (((seed++ * 7919) % 2001) - 1000) / 1024;
    tensors.set(name, { shape, data });
  }
  return tensors;
}

export const tinyTokenizerJson = {
  version: '1.0',
  added_tokens: [
    { id: 0, content: '<s>', special: true },
    { id: 1, content: '</s>', special: true },
  ],
  model: { type: 'BPE', vocab: { '<s>': 0, '</s>': 1, a: 2, b: 3 }, merges: [] },
};

/** Writes config.json, model.safetensors, tokenizer.json. */
export function writeTinyHfDir(dir: string, config: ModelConfig, configJsonOverrides: Record<string, unknown> = {}): Map<string, FloatTensor> {
  const tensors = tinyTensors(config);
  const configJson = {
    architectures: [config.architecture],
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    vocab_size: config.vocabSize,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    max_position_embeddings: config.maxPositionEmbeddings,
    tie_word_embeddings: config.tieWordEmbeddings,
    ...configJsonOverrides,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(configJson));
  writeSafetensors(
    path.join(dir, 'model.safetensors'),
    [...tensors].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, bytes: f32Bytes(t.data) })),
  );
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson));
  return tensors;
}

const GGUF_SUFFIXES: [RegExp, string][] = [
  [/^model\.embed_tokens\.weight$/, 'token_embd.weight'],
  [/^model\.norm\.weight$/, 'output_norm.weight'],
  [/^lm_head\.weight$/, 'output.weight'],
  [/input_layernorm/, 'attn_norm'],
  [/self_attn\.q_proj/, 'attn_q'],
  [/self_attn\.k_proj/, 'attn_k'],
  [/self_attn\.v_proj/, 'attn_v'],
  [/self_attn\.o_proj/, 'attn_output'],
  [/post_attention_layernorm/, 'ffn_norm'],
  [/mlp\.gate_proj/, 'ffn_gate'],
  [/mlp\.up_proj/, 'ffn_up'],
  [/mlp\.down_proj/, 'ffn_down'],
  [/^model\.layers\./, 'blk.'],
];

export function ggufNameOf(hfName: string): string {
  return GGUF_SUFFIXES.reduce((name, [pattern, replacement]) => name.replace(pattern, replacement), hfName);
}

/** A gpt2-style vocabulary: a, b, ab, then </s>, <s> (control). */
export const tinyGgufTokenizerMetadata: [string, TypedValue][] = [
  ['tokenizer.ggml.model', gv.str('gpt2')],
  ['tokenizer.ggml.tokens', gv.arr(8, ['a', 'b', 'ab', '</s>', '<s>', 'Ġ', 'Ġa'])],
  ['tokenizer.ggml.token_type', gv.arr(5, [1, 1, 1, 3, 3, 1, 1])],
  ['tokenizer.ggml.merges', gv.arr(8, ['a b', 'Ġ a'])],
  ['tokenizer.ggml.bos_token_id', gv.u32(4)],
  ['tokenizer.ggml.eos_token_id', gv.u32(3)],
];

/** Writes the tiny model as llama.cpp would: GGUF names, ne reversed, Q/K permuted for llama arch. */
export function writeTinyGguf(
  file: string,
  config: ModelConfig,
  /** tensorType relabels a tensor's type (its bytes stay F32): for unsupported-type error tests. */
  options: { tensorType?: (name: string) => number; extraMetadata?: [string, TypedValue][]; drop?: string[]; extraTensors?: GgufTensorEntry[] } = {},
): Map<string, FloatTensor> {
  const tensors = tinyTensors(config);
  const arch = config.architecture === 'Qwen2ForCausalLM' ? 'qwen2' : 'llama';
  const metadata: [string, TypedValue][] = [
    ['general.architecture', gv.str(arch)],
    [`${arch}.embedding_length`, gv.u32(config.hiddenSize)],
    [`${arch}.block_count`, gv.u32(config.numLayers)],
    [`${arch}.feed_forward_length`, gv.u32(config.intermediateSize)],
    [`${arch}.attention.head_count`, gv.u32(config.numHeads)],
    [`${arch}.attention.head_count_kv`, gv.u32(config.numKvHeads)],
    [`${arch}.context_length`, gv.u32(config.maxPositionEmbeddings)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gv.f32(config.rmsNormEps)],
    [`${arch}.rope.freq_base`, gv.f32(config.ropeTheta)],
    ...tinyGgufTokenizerMetadata,
    ...(options.extraMetadata ?? []),
  ];
  const entries = [...tensors]
    .filter(([name]) => !(options.drop ?? []).includes(name))
    .map(([name, t]) => {
      let data = t.data;
      if (arch === 'llama' && /\.q_proj\./.test(name)) data = permuteQk(data, t.shape[0]!, config.numHeads);
      if (arch === 'llama' && /\.k_proj\./.test(name)) data = permuteQk(data, t.shape[0]!, config.numKvHeads);
      return { name: ggufNameOf(name), ne: [...t.shape].reverse(), type: options.tensorType?.(name) ?? GgmlType.F32, bytes: f32Bytes(data) };
    });
  writeGguf(file, { metadata, tensors: [...entries, ...(options.extraTensors ?? [])] });
  return tensors;
}
