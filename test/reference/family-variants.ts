// @module Tiny checkpoints shaped like published models of families already covered, where a config key changes what runs: sliding windows (Mistral v0.1, Phi-3-mini-4k, Qwen2 use_sliding_window) and the Phi-3/3.5/4 line.
//
// config.json values follow the published configs (shape shrunk; windows shrunk below the test prompts so they matter):
// mistralai/Mistral-7B-v0.1 (sliding_window 4096, rope_theta 10000), microsoft/Phi-3-mini-4k-instruct (sliding_window
// 2047, max/original 4096, no rope_scaling), microsoft/Phi-3-mini-128k-instruct and microsoft/Phi-3.5-mini-instruct
// (longrope over original 4096 → 131072, sliding_window 262144), microsoft/phi-4 (rope_theta 250000, 16384 positions,
// sliding_window null, 40 heads over 10 KV heads), Qwen/Qwen2-7B-style use_sliding_window with max_window_layers.
// These have no llama.cpp fixture: llama.cpp runs llama, qwen2 and phi3 without their window (docs/models.md).
import type { FamilyCheckpoint } from './family-checkpoint.ts';
import { base, shape } from './family-checkpoint.ts';

const LONG = [1, 1.25, 2, 4, 8, 16, 24, 32];
const SHORT = [1, 1, 1, 1.125, 1.25, 1.5, 2, 2];
const longropeAttention = (max: number, original: number) => Math.sqrt(1 + Math.log(max / original) / Math.log(original));

const phi3Common = {
  ...base,
  architectures: ['Phi3ForCausalLM'],
  model_type: 'phi3',
  num_hidden_layers: 2,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: false,
  resid_pdrop: 0,
  embd_pdrop: 0,
};
const phi3Config = {
  ...shape,
  architecture: 'Phi3ForCausalLM',
  headDim: 16,
  numLayers: 2,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  tieWordEmbeddings: false,
} as const;

/** Phi-3-mini-128k and Phi-3.5-mini publish the same structure: LongRoPE to 131072 and a window past any context. */
function phi3Longrope(): FamilyCheckpoint {
  return {
    configJson: {
      ...phi3Common,
      max_position_embeddings: 131072,
      original_max_position_embeddings: 4096,
      sliding_window: 262144,
      rope_scaling: { type: 'longrope', long_factor: LONG, short_factor: SHORT },
    },
    config: {
      ...phi3Config,
      maxPositionEmbeddings: 131072,
      slidingWindow: 262144,
      ropeScaling: {
        type: 'longrope',
        longFactor: LONG,
        shortFactor: SHORT,
        originalMaxPositionEmbeddings: 4096,
        attentionFactor: longropeAttention(131072, 4096),
      },
    },
  };
}

export const FAMILY_VARIANTS = {
  'mistral-v0.1 (window on every layer)': {
    configJson: {
      ...base,
      architectures: ['MistralForCausalLM'],
      model_type: 'mistral',
      num_hidden_layers: 2,
      max_position_embeddings: 32768,
      rope_theta: 10000,
      sliding_window: 4,
      tie_word_embeddings: false,
    },
    config: {
      ...shape,
      architecture: 'MistralForCausalLM',
      headDim: 16,
      numLayers: 2,
      ropeTheta: 10000,
      maxPositionEmbeddings: 32768,
      tieWordEmbeddings: false,
      slidingWindow: 4,
    },
  },
  'phi-3-mini-4k (window on every layer)': {
    configJson: { ...phi3Common, max_position_embeddings: 4096, original_max_position_embeddings: 4096, sliding_window: 5 },
    config: { ...phi3Config, maxPositionEmbeddings: 4096, slidingWindow: 5 },
  },
  'phi-3-mini-128k (longrope)': phi3Longrope(),
  'phi-3.5-mini (longrope)': phi3Longrope(),
  'phi-4 (no window, GQA)': {
    configJson: {
      ...phi3Common,
      num_key_value_heads: 1,
      rope_theta: 250000,
      max_position_embeddings: 16384,
      original_max_position_embeddings: 16384,
      sliding_window: null,
    },
    config: { ...phi3Config, numKvHeads: 1, ropeTheta: 250000, maxPositionEmbeddings: 16384 },
  },
  'qwen2 use_sliding_window from layer 1 (max_window_layers)': {
    configJson: {
      ...base,
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      num_hidden_layers: 3,
      max_position_embeddings: 32768,
      rope_theta: 1000000,
      use_sliding_window: true,
      sliding_window: 4,
      max_window_layers: 1,
      tie_word_embeddings: false,
    },
    config: {
      ...shape,
      architecture: 'Qwen2ForCausalLM',
      headDim: 16,
      numLayers: 3,
      ropeTheta: 1000000,
      maxPositionEmbeddings: 32768,
      tieWordEmbeddings: false,
      attentionBias: true,
      slidingWindow: 4,
      slidingLayers: [false, true, true],
    },
  },
} satisfies Record<string, FamilyCheckpoint>;
