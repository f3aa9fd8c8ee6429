// @module Tiny random checkpoints of each supported family as Hugging Face directories, with the families' real config keys.
//
// config.json keys follow the published configs (Qwen/Qwen3-0.6B, HuggingFaceTB/SmolLM3-3B,
// allenai/OLMo-2-1124-7B, microsoft/Phi-4-mini-instruct, google/gemma-2-2b, google/gemma-3-1b-it); tensor names are the loaders' canonical list (transformers' state-dict names).
import fs from 'node:fs';
import path from 'node:path';
import { buildGeneratedTokenizer, CHATML_TEMPLATE, expectedTensorShapes, type ModelConfig } from '@tessera/model-files';
import { storedTensorGroups } from '../../packages/model-files/src/fused-projections.ts';
import { f32Bytes, writeSafetensors } from '../../packages/model-files/src/safetensors-writer.test-helper.ts';
import { randomLlamaModel } from '@tessera/testing';

export interface FamilyCheckpoint {
  /** What the loaders must read back. */
  config: ModelConfig;
  /** config.json as the family publishes it (shape shrunk). */
  configJson: Record<string, unknown>;
}

export const VOCAB = 320;
/** config.json keys every family shares (shape shrunk). */
export const base = {
  hidden_size: 64,
  intermediate_size: 96,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: VOCAB,
  hidden_act: 'silu',
  rms_norm_eps: 1e-6,
  attention_bias: false,
  attention_dropout: 0,
  bos_token_id: 0,
  eos_token_id: 2,
  torch_dtype: 'float32',
  use_cache: true,
  rope_scaling: null,
};
/** The ModelConfig fields those keys give. */
export const shape = {
  hiddenSize: 64,
  intermediateSize: 96,
  numHeads: 4,
  numKvHeads: 2,
  vocabSize: VOCAB,
  rmsNormEps: 1e-6,
  ropeScaling: null,
  attentionBias: false,
  slidingWindow: null,
} as const;

const PHI3_LONG = [1, 1.25, 2, 4, 8, 16];
const PHI3_SHORT = [1, 1, 1.125, 1.25, 1.5, 2];

export const FAMILY_CHECKPOINTS = {
  qwen3: {
    // head_dim × heads (96) ≠ hidden (64), as in Qwen3-0.6B (16 × 128 over 1024).
    configJson: {
      ...base,
      architectures: ['Qwen3ForCausalLM'],
      model_type: 'qwen3',
      head_dim: 24,
      num_hidden_layers: 3,
      max_position_embeddings: 40960,
      max_window_layers: 28,
      rope_theta: 1000000,
      sliding_window: null,
      use_sliding_window: false,
      tie_word_embeddings: true,
    },
    config: {
      ...shape,
      architecture: 'Qwen3ForCausalLM',
      headDim: 24,
      numLayers: 3,
      ropeTheta: 1000000,
      maxPositionEmbeddings: 40960,
      tieWordEmbeddings: true,
      qkNorm: 'head',
    },
  },
  smollm3: {
    configJson: {
      ...base,
      architectures: ['SmolLM3ForCausalLM'],
      model_type: 'smollm3',
      num_hidden_layers: 4,
      max_position_embeddings: 65536,
      max_window_layers: 28,
      mlp_bias: false,
      no_rope_layer_interval: 4,
      no_rope_layers: [1, 1, 1, 0],
      rope_theta: 5000000,
      sliding_window: null,
      use_sliding_window: false,
      tie_word_embeddings: true,
    },
    config: {
      ...shape,
      architecture: 'SmolLM3ForCausalLM',
      headDim: 16,
      numLayers: 4,
      ropeTheta: 5000000,
      maxPositionEmbeddings: 65536,
      tieWordEmbeddings: true,
      ropeLayers: [true, true, true, false],
    },
  },
  olmo2: {
    configJson: {
      ...base,
      architectures: ['Olmo2ForCausalLM'],
      model_type: 'olmo2',
      num_hidden_layers: 3,
      max_position_embeddings: 4096,
      rope_theta: 500000,
      tie_word_embeddings: false,
    },
    config: {
      ...shape,
      architecture: 'Olmo2ForCausalLM',
      headDim: 16,
      numLayers: 3,
      ropeTheta: 500000,
      maxPositionEmbeddings: 4096,
      tieWordEmbeddings: false,
      qkNorm: 'projection',
      normPlacement: 'post',
    },
  },
  phi3: {
    // Phi-4-mini's features: partial rotary (0.75 of each head), LongRoPE, tied embeddings; qkv_proj and
    // gate_up_proj fused. Factors are exact in float32, so the GGUF holds them unchanged.
    configJson: {
      ...base,
      architectures: ['Phi3ForCausalLM'],
      model_type: 'phi3',
      num_hidden_layers: 3,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      partial_rotary_factor: 0.75,
      max_position_embeddings: 512,
      original_max_position_embeddings: 128,
      sliding_window: null,
      tie_word_embeddings: true,
      resid_pdrop: 0,
      embd_pdrop: 0,
      pad_token_id: 1,
      rope_scaling: { type: 'longrope', long_factor: PHI3_LONG, short_factor: PHI3_SHORT },
    },
    config: {
      ...shape,
      rmsNormEps: 1e-5,
      architecture: 'Phi3ForCausalLM',
      headDim: 16,
      rotaryDim: 12,
      numLayers: 3,
      ropeTheta: 10000,
      maxPositionEmbeddings: 512,
      tieWordEmbeddings: true,
      ropeScaling: {
        type: 'longrope',
        longFactor: PHI3_LONG,
        shortFactor: PHI3_SHORT,
        originalMaxPositionEmbeddings: 128,
        attentionFactor: Math.sqrt(1 + Math.log(512 / 128) / Math.log(128)),
      },
    },
  },
  gemma2: {
    // Window 5 < the prompts (9, 6 tokens) + 8 new ones, so the local layers (even ones) see less than the global ones.
    configJson: {
      ...base,
      architectures: ['Gemma2ForCausalLM'],
      model_type: 'gemma2',
      hidden_act: 'gelu_pytorch_tanh',
      hidden_activation: 'gelu_pytorch_tanh',
      head_dim: 16,
      num_hidden_layers: 4,
      max_position_embeddings: 8192,
      rope_theta: 10000,
      query_pre_attn_scalar: 16,
      attn_logit_softcapping: 20,
      final_logit_softcapping: 10,
      sliding_window: 5,
      cache_implementation: 'hybrid',
      tie_word_embeddings: true,
    },
    config: {
      ...shape,
      architecture: 'Gemma2ForCausalLM',
      headDim: 16,
      numLayers: 4,
      ropeTheta: 10000,
      maxPositionEmbeddings: 8192,
      tieWordEmbeddings: true,
      normPlacement: 'sandwich',
      gemmaNorms: true,
      queryPreAttnScalar: 16,
      attnLogitSoftcap: 20,
      finalLogitSoftcap: 10,
      slidingWindow: 5,
      slidingLayers: [true, false, true, false],
    },
  },
  gemma3: {
    configJson: {
      ...base,
      architectures: ['Gemma3ForCausalLM'],
      model_type: 'gemma3_text',
      hidden_act: 'gelu_pytorch_tanh',
      hidden_activation: 'gelu_pytorch_tanh',
      head_dim: 16,
      num_hidden_layers: 3,
      max_position_embeddings: 32768,
      rope_theta: 1000000,
      rope_local_base_freq: 10000,
      query_pre_attn_scalar: 16,
      sliding_window: 4,
      sliding_window_pattern: 3,
      layer_types: ['sliding_attention', 'sliding_attention', 'full_attention'],
      final_logit_softcapping: null,
      attn_logit_softcapping: null,
      tie_word_embeddings: true,
    },
    config: {
      ...shape,
      architecture: 'Gemma3ForCausalLM',
      headDim: 16,
      numLayers: 3,
      ropeTheta: 1000000,
      maxPositionEmbeddings: 32768,
      tieWordEmbeddings: true,
      normPlacement: 'sandwich',
      gemmaNorms: true,
      qkNorm: 'head',
      queryPreAttnScalar: 16,
      localRopeTheta: 10000,
      slidingWindow: 4,
      slidingLayers: [true, true, false],
    },
  },
} satisfies Record<string, FamilyCheckpoint>;

export type FamilyName = keyof typeof FAMILY_CHECKPOINTS;

/**
 * Writes config.json, model.safetensors (seeded random weights), tokenizer.json (the generated byte-level
 * BPE), tokenizer_config.json and generation_config.json into `dir`; returns the config to expect.
 */
export function writeFamilyHfDir(
  dir: string,
  family: FamilyName,
  seed: number,
  chatTemplate: string = CHATML_TEMPLATE,
  configOverrides: Record<string, unknown> = {},
): ModelConfig {
  return writeCheckpointHfDir(dir, FAMILY_CHECKPOINTS[family], seed, chatTemplate, configOverrides);
}

/** writeFamilyHfDir for any checkpoint (family-variants.ts). */
export function writeCheckpointHfDir(
  dir: string,
  checkpoint: FamilyCheckpoint,
  seed: number,
  chatTemplate: string = CHATML_TEMPLATE,
  configOverrides: Record<string, unknown> = {},
): ModelConfig {
  const { config } = checkpoint;
  const configJson = { ...checkpoint.configJson, ...configOverrides };
  fs.mkdirSync(dir, { recursive: true });
  const model = randomLlamaModel(config, seed);
  // Fused families store q/k/v and gate/up as one tensor each (parts in row order).
  const entries = storedTensorGroups([...expectedTensorShapes(config).keys()], config).map(({ name, parts }) => {
    const tensors = parts.map((part) => model.tensor(part));
    const data = Float32Array.from(tensors.flatMap((t) => Array.from(t.data)));
    const shape = tensors.length === 1 ? tensors[0]!.shape : [tensors.reduce((rows, t) => rows + t.shape[0]!, 0), tensors[0]!.shape[1]!];
    return { name, dtype: 'F32', shape, bytes: f32Bytes(data) };
  });
  writeSafetensors(path.join(dir, 'model.safetensors'), entries, { format: 'pt' });
  const write = (name: string, value: unknown) => fs.writeFileSync(path.join(dir, name), JSON.stringify(value, null, 1));
  write('config.json', configJson);
  write('tokenizer.json', buildGeneratedTokenizer(VOCAB).tokenizerJson);
  write('tokenizer_config.json', {
    add_bos_token: false,
    bos_token: '<|endoftext|>',
    eos_token: '<|im_end|>',
    chat_template: chatTemplate,
    model_max_length: 4096,
  });
  write('generation_config.json', { bos_token_id: 0, eos_token_id: 2 });
  return config;
}
