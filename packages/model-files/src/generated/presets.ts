// @module Named shapes of the generated model (tiny / 50m / 1b / tp4), caller overrides, and their config.json.

import type { ModelConfig, RopeScaling } from '../types.ts';

/** Everything that decides a generated model's shape. */
export interface GeneratedModelSpec {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** Defaults to hiddenSize / numHeads. */
  headDim: number;
  /** Exact vocabulary size: trained BPE tokens, then `<|reserved_N|>` fill if the corpus runs out. */
  vocabSize: number;
  maxPositionEmbeddings: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  /** Q/K/V biases; the config is then written as Qwen2ForCausalLM. */
  attentionBias: boolean;
  /** Standard deviation of Linear / embedding / bias initialisation (norm weights are 1). */
  initStd: number;
}

export type GeneratedModelOverrides = Partial<GeneratedModelSpec>;

type PresetShape = Omit<GeneratedModelSpec, 'headDim'> & { headDim?: number };

const COMMON = {
  ropeTheta: 10000,
  ropeScaling: null,
  rmsNormEps: 1e-5,
  tieWordEmbeddings: false,
  attentionBias: false,
  initStd: 0.02,
} as const;

export const GENERATED_PRESETS = {
  /** The `npm start` default: ~1.3 M parameters, GQA 4:2. */
  tiny: { ...COMMON, hiddenSize: 128, intermediateSize: 384, numLayers: 4, numHeads: 4, numKvHeads: 2, vocabSize: 2048, maxPositionEmbeddings: 2048 },
  /** A benchmark-sized model: ~56 M parameters, Llama-2-style 32000 vocabulary. */
  '50m': { ...COMMON, hiddenSize: 512, intermediateSize: 1408, numLayers: 8, numHeads: 8, numKvHeads: 4, vocabSize: 32000, maxPositionEmbeddings: 4096 },
  /** Llama-3.2-1B's shape with a 32000 vocabulary: ~1.1 B parameters (4.4 GB float32), for the quantized-weights benchmarks. */
  '1b': { ...COMMON, hiddenSize: 2048, intermediateSize: 8192, numLayers: 16, numHeads: 32, numKvHeads: 8, vocabSize: 32000, maxPositionEmbeddings: 4096 },
  /** Heads and KV heads divisible by 4, for tensor-parallel tests on 2 or 4 shards. */
  tp4: { ...COMMON, hiddenSize: 128, intermediateSize: 256, numLayers: 2, numHeads: 8, numKvHeads: 4, vocabSize: 1024, maxPositionEmbeddings: 2048 },
} satisfies Record<string, PresetShape>;

export type GeneratedPresetName = keyof typeof GENERATED_PRESETS;
export const GENERATED_PRESET_NAMES = Object.keys(GENERATED_PRESETS) as GeneratedPresetName[];

/** Below this the vocabulary cannot hold the 3 chat specials and the 256 byte tokens. */
export const MIN_GENERATED_VOCAB = 3 + 256;

export function isGeneratedPresetName(name: string): name is GeneratedPresetName {
  return Object.hasOwn(GENERATED_PRESETS, name);
}

/** The preset with overrides applied, validated; throws naming the offending field. */
export function resolveGeneratedSpec(preset: string = 'tiny', overrides: GeneratedModelOverrides = {}): GeneratedModelSpec {
  if (!isGeneratedPresetName(preset)) {
    throw new Error(`unknown generated-model preset "${preset}" (known: ${GENERATED_PRESET_NAMES.join(', ')})`);
  }
  const base: PresetShape = GENERATED_PRESETS[preset];
  const merged = { ...base, ...stripUndefined(overrides) };
  const spec: GeneratedModelSpec = { ...merged, headDim: merged.headDim ?? merged.hiddenSize / merged.numHeads };
  validateSpec(spec);
  return spec;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateSpec(spec: GeneratedModelSpec): void {
  const fail = (field: keyof GeneratedModelSpec, problem: string): never => {
    throw new Error(`generated model: ${field} ${problem}`);
  };
  for (const field of ['hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'vocabSize', 'maxPositionEmbeddings'] as const) {
    if (!Number.isInteger(spec[field]) || spec[field] <= 0) fail(field, `must be a positive integer (got ${spec[field]})`);
  }
  if (spec.headDim % 2 !== 0) fail('headDim', `must be even for rotary embeddings (got ${spec.headDim})`);
  if (spec.numHeads % spec.numKvHeads !== 0) fail('numKvHeads', `(${spec.numKvHeads}) must divide numHeads (${spec.numHeads})`);
  if (spec.vocabSize < MIN_GENERATED_VOCAB) fail('vocabSize', `must be at least ${MIN_GENERATED_VOCAB} (got ${spec.vocabSize})`);
  if (spec.attentionBias && spec.headDim * spec.numHeads !== spec.hiddenSize) {
    fail('headDim', 'must equal hiddenSize / numHeads with attentionBias (Qwen2 has no head_dim field)');
  }
  if (!(spec.initStd > 0)) fail('initStd', `must be positive (got ${spec.initStd})`);
  if (!(spec.ropeTheta > 0)) fail('ropeTheta', `must be positive (got ${spec.ropeTheta})`);
  if (!(spec.rmsNormEps > 0)) fail('rmsNormEps', `must be positive (got ${spec.rmsNormEps})`);
}

/** The ModelConfig a loader should produce from the written config.json. */
export function generatedModelConfig(spec: GeneratedModelSpec): ModelConfig {
  return {
    architecture: spec.attentionBias ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM',
    hiddenSize: spec.hiddenSize,
    intermediateSize: spec.intermediateSize,
    numLayers: spec.numLayers,
    numHeads: spec.numHeads,
    numKvHeads: spec.numKvHeads,
    headDim: spec.headDim,
    vocabSize: spec.vocabSize,
    rmsNormEps: spec.rmsNormEps,
    ropeTheta: spec.ropeTheta,
    ropeScaling: spec.ropeScaling,
    maxPositionEmbeddings: spec.maxPositionEmbeddings,
    tieWordEmbeddings: spec.tieWordEmbeddings,
    attentionBias: spec.attentionBias,
    slidingWindow: null,
  };
}

function ropeScalingJson(scaling: RopeScaling | null): Record<string, unknown> | null {
  if (!scaling) return null;
  if (scaling.type === 'linear') return { rope_type: 'linear', type: 'linear', factor: scaling.factor };
  if (scaling.type === 'yarn') {
    const { factor, originalMaxPositionEmbeddings, betaFast, betaSlow, attentionFactor } = scaling;
    return {
      rope_type: 'yarn',
      factor,
      original_max_position_embeddings: originalMaxPositionEmbeddings,
      beta_fast: betaFast,
      beta_slow: betaSlow,
      attention_factor: attentionFactor,
    };
  }
  if (scaling.type === 'dynamic')
    return { rope_type: 'dynamic', factor: scaling.factor, original_max_position_embeddings: scaling.originalMaxPositionEmbeddings };
  if (scaling.type === 'longrope') {
    const { shortFactor, longFactor, originalMaxPositionEmbeddings, attentionFactor } = scaling;
    return {
      rope_type: 'longrope',
      short_factor: shortFactor,
      long_factor: longFactor,
      original_max_position_embeddings: originalMaxPositionEmbeddings,
      attention_factor: attentionFactor,
    };
  }
  return {
    rope_type: 'llama3',
    factor: scaling.factor,
    low_freq_factor: scaling.lowFreqFactor,
    high_freq_factor: scaling.highFreqFactor,
    original_max_position_embeddings: scaling.originalMaxPositionEmbeddings,
  };
}

/** config.json in transformers' shape, marked as a generated, untrained model. */
export function hfConfigJson(
  spec: GeneratedModelSpec,
  meta: { preset: string; seed: number; formatVersion: number; bosTokenId: number; eosTokenId: number },
): Record<string, unknown> {
  const qwen2 = spec.attentionBias;
  return {
    _comment: 'Untrained test model generated by Tessera from a fixed seed: random weights, real BPE tokenizer. Its output is meaningless text.',
    architectures: [qwen2 ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: qwen2 ? 'qwen2' : 'llama',
    tessera_generated: true,
    tessera_generator: { preset: meta.preset, seed: meta.seed, format_version: meta.formatVersion },
    hidden_size: spec.hiddenSize,
    intermediate_size: spec.intermediateSize,
    num_hidden_layers: spec.numLayers,
    num_attention_heads: spec.numHeads,
    num_key_value_heads: spec.numKvHeads,
    head_dim: spec.headDim,
    vocab_size: spec.vocabSize,
    max_position_embeddings: spec.maxPositionEmbeddings,
    rms_norm_eps: spec.rmsNormEps,
    rope_theta: spec.ropeTheta,
    rope_scaling: ropeScalingJson(spec.ropeScaling),
    tie_word_embeddings: spec.tieWordEmbeddings,
    attention_bias: spec.attentionBias,
    ...(qwen2 ? { use_sliding_window: false, sliding_window: null } : { mlp_bias: false }),
    attention_dropout: 0,
    hidden_act: 'silu',
    initializer_range: spec.initStd,
    bos_token_id: meta.bosTokenId,
    eos_token_id: meta.eosTokenId,
    torch_dtype: 'float32',
    use_cache: true,
    transformers_version: '4.44.0',
  };
}
