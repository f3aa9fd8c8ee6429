// @module GGUF metadata (`<arch>.*` keys of the archs in families/families.ts) → ModelConfig.

import path from 'node:path';
import type { GgufFile, GgufValue } from './gguf.ts';
import { llama3ScalingFromFreqFactors } from './gguf-rope.ts';
import { readGgufTensor } from './gguf.ts';
import { familyByGgufArch, familyOf, periodicSlidingLayers, SUPPORTED_GGUF_ARCHITECTURES } from './families/families.ts';
import { servedPositions } from './hf-config.ts';
import { ModelLoadError, type ModelConfig, type RopeScaling } from './types.ts';

/** The shortest decimal that rounds to the same float32 (GGUF stores 1e-5 as 9.99999974e-6). */
export function float32Decimal(value: number): number {
  const single = Math.fround(value);
  for (let digits = 1; digits < 10; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return value;
}

/** Typed metadata access with errors naming the file and key. */
export class GgufMetadata {
  readonly label: string;
  constructor(readonly gguf: GgufFile) {
    this.label = path.basename(gguf.path);
  }

  fail(key: string, problem: string): never {
    throw new ModelLoadError(this.label, `metadata "${key}" ${problem}`);
  }

  get(key: string): GgufValue | undefined {
    return this.gguf.metadata.get(key);
  }

  string(key: string, fallback?: string): string {
    const value = this.get(key);
    if (value === undefined) return fallback ?? this.fail(key, 'is missing');
    if (typeof value !== 'string') this.fail(key, `must be a string (got ${JSON.stringify(value)})`);
    return value;
  }

  number(key: string, fallback?: number): number {
    const value = this.get(key);
    if (value === undefined) return fallback ?? this.fail(key, 'is missing');
    if (typeof value !== 'number') this.fail(key, `must be a number (got ${JSON.stringify(value).slice(0, 80)})`);
    return value;
  }

  positiveInt(key: string, fallback?: number): number {
    const value = this.number(key, fallback);
    if (!Number.isInteger(value) || value <= 0) this.fail(key, `must be a positive integer (got ${value})`);
    return value;
  }
}

function ropeScalingOf(meta: GgufMetadata, arch: string, headDim: number, ropeTheta: number): RopeScaling | null {
  // LongRoPE (llama.cpp conversion/phi.py): the two factor sets as tensors, the cos/sin scale as attn_factor.
  const long = meta.gguf.tensors.get('rope_factors_long.weight');
  const short = meta.gguf.tensors.get('rope_factors_short.weight');
  if (long && short) {
    return {
      type: 'longrope',
      longFactor: Array.from(readGgufTensor(meta.gguf, long.name).data),
      shortFactor: Array.from(readGgufTensor(meta.gguf, short.name).data),
      originalMaxPositionEmbeddings: meta.positiveInt(`${arch}.rope.scaling.original_context_length`),
      attentionFactor: float32Decimal(meta.number(`${arch}.rope.scaling.attn_factor`, 1)),
    };
  }
  const freqs = meta.gguf.tensors.get('rope_freqs.weight');
  if (freqs) {
    const originalContext = meta.positiveInt(`${arch}.rope.scaling.original_context_length`, 8192);
    return llama3ScalingFromFreqFactors(meta.label, readGgufTensor(meta.gguf, freqs.name).data, headDim, ropeTheta, originalContext);
  }
  const legacyLinear = meta.get(`${arch}.rope.scale_linear`);
  const type = meta.string(`${arch}.rope.scaling.type`, legacyLinear !== undefined ? 'linear' : 'none');
  if (type === 'none') return null;
  if (type === 'linear') {
    const factor = meta.get(`${arch}.rope.scaling.factor`) ?? legacyLinear;
    if (typeof factor !== 'number') meta.fail(`${arch}.rope.scaling.factor`, 'is missing');
    return factor === 1 ? null : { type: 'linear', factor: float32Decimal(factor) };
  }
  if (type === 'yarn') {
    // llama.cpp's ggml rope scales cos/sin by 1 + 0.1·ln(factor) itself (yarn_attn_factor multiplies that).
    const factor = float32Decimal(meta.number(`${arch}.rope.scaling.factor`));
    return {
      type: 'yarn',
      factor,
      originalMaxPositionEmbeddings: meta.positiveInt(`${arch}.rope.scaling.original_context_length`),
      betaFast: float32Decimal(meta.number(`${arch}.rope.scaling.yarn_beta_fast`, 32)),
      betaSlow: float32Decimal(meta.number(`${arch}.rope.scaling.yarn_beta_slow`, 1)),
      attentionFactor: (factor <= 1 ? 1 : 0.1 * Math.log(factor) + 1) * float32Decimal(meta.number(`${arch}.rope.scaling.yarn_attn_factor`, 1)),
    };
  }
  return meta.fail(
    `${arch}.rope.scaling.type`,
    `value "${type}" is not supported (supported: none, linear, yarn, llama3 via rope_freqs, longrope via rope_factors)`,
  );
}

/**
 * The window llama.cpp's converters write as `<arch>.attention.sliding_window` (phi3: always, 0 meaning none, as
 * for Phi-4; olmo2 for OLMo 3; Tessera's writer for llama/qwen2 too), with `sliding_window_pattern` either one
 * bool per layer (true = sliding) or a period (in each run of `period` layers all but the last slide). llama.cpp's
 * own llama and qwen2 converters write no window (their models then run full attention, as llama.cpp does), and
 * its phi3 loader reads the key but turns the window off (llama.cpp PR #13676); Tessera applies it, as transformers does.
 */
function slidingWindowOf(meta: GgufMetadata, arch: string, numLayers: number): Pick<ModelConfig, 'slidingWindow' | 'slidingLayers'> {
  const window = meta.number(`${arch}.attention.sliding_window`, 0);
  if (window === 0) return { slidingWindow: null };
  if (!Number.isInteger(window) || window < 0) meta.fail(`${arch}.attention.sliding_window`, `must be a non-negative integer (got ${window})`);
  const pattern = meta.get(`${arch}.attention.sliding_window_pattern`);
  if (pattern === undefined) return { slidingWindow: window };
  if (typeof pattern === 'number')
    return { slidingWindow: window, slidingLayers: periodicSlidingLayers(numLayers, meta.positiveInt(`${arch}.attention.sliding_window_pattern`)) };
  if (!Array.isArray(pattern) || pattern.length !== numLayers || pattern.some((v) => typeof v !== 'boolean')) {
    meta.fail(`${arch}.attention.sliding_window_pattern`, `must be a period or ${numLayers} booleans (one per layer)`);
  }
  const slidingLayers = pattern as boolean[];
  return slidingLayers.every(Boolean) ? { slidingWindow: window } : { slidingWindow: window, slidingLayers };
}

/** Reads the hyper-parameters; the vocab size comes from metadata, else the embedding's rows, else the token list. */
export function ggufModelConfig(gguf: GgufFile): ModelConfig {
  const meta = new GgufMetadata(gguf);
  const arch = meta.string('general.architecture');
  const intermediateSize = gguf.metadata.has(`${arch}.feed_forward_length`) ? meta.positiveInt(`${arch}.feed_forward_length`) : 0;
  // Mixtral is written as `llama` with experts (convert_hf_to_gguf.py MixtralModel).
  const family = arch === 'llama' && (meta.get('llama.expert_count') ?? 0) !== 0 ? familyOf('MixtralForCausalLM') : familyByGgufArch(arch);
  if (!family) {
    throw new ModelLoadError(meta.label, `architecture "${arch}" is not supported (supported: ${SUPPORTED_GGUF_ARCHITECTURES.join(', ')})`);
  }
  const architecture = family.architecture;
  const hiddenSize = meta.positiveInt(`${arch}.embedding_length`);
  const numHeads = meta.positiveInt(`${arch}.attention.head_count`);
  const numKvHeads = meta.positiveInt(`${arch}.attention.head_count_kv`, numHeads);
  if (numHeads % numKvHeads !== 0) {
    meta.fail(`${arch}.attention.head_count_kv`, `(${numKvHeads}) does not divide ${arch}.attention.head_count (${numHeads})`);
  }
  if (!gguf.metadata.has(`${arch}.attention.key_length`) && hiddenSize % numHeads !== 0) {
    meta.fail(`${arch}.attention.head_count`, `(${numHeads}) does not divide ${arch}.embedding_length (${hiddenSize})`);
  }
  const headDim = meta.positiveInt(`${arch}.attention.key_length`, hiddenSize / numHeads);
  if (meta.positiveInt(`${arch}.attention.value_length`, headDim) !== headDim) {
    meta.fail(`${arch}.attention.value_length`, `differs from the key length ${headDim}, which is not supported`);
  }
  if (headDim % 2 !== 0) meta.fail(`${arch}.attention.key_length`, `(${headDim}) must be even for rotary embeddings`);
  const ropeDims = meta.positiveInt(`${arch}.rope.dimension_count`, headDim);
  if (ropeDims > headDim || ropeDims % 2 !== 0) meta.fail(`${arch}.rope.dimension_count`, `(${ropeDims}) must be even and at most the head size ${headDim}`);

  const tokens = gguf.metadata.get('tokenizer.ggml.tokens');
  const embedding = gguf.tensors.get('token_embd.weight');
  const vocabFallback = embedding?.shape[0] ?? (Array.isArray(tokens) ? tokens.length : undefined);
  const ropeTheta = float32Decimal(meta.number(`${arch}.rope.freq_base`, 10000));

  const numLayers = meta.positiveInt(`${arch}.block_count`);
  const ropeScaling = ropeScalingOf(meta, arch, headDim, ropeTheta);
  const base: ModelConfig = {
    architecture,
    hiddenSize,
    // qwen3moe files may carry only the experts' width (expert_feed_forward_length).
    intermediateSize: intermediateSize || meta.positiveInt(`${arch}.expert_feed_forward_length`),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: meta.positiveInt(`${arch}.vocab_size`, vocabFallback),
    rmsNormEps: float32Decimal(meta.number(`${arch}.attention.layer_norm_rms_epsilon`)),
    ropeTheta,
    ropeScaling,
    maxPositionEmbeddings: servedPositions(meta.positiveInt(`${arch}.context_length`), ropeScaling),
    tieWordEmbeddings: !gguf.tensors.has('output.weight'),
    attentionBias: family.attentionBias === 'always' || gguf.tensors.has('blk.0.attn_q.bias'),
    ...slidingWindowOf(meta, arch, numLayers),
    ...(ropeDims !== headDim ? { rotaryDim: ropeDims } : {}),
  };
  return { ...base, ...family.ggufFeatures(meta, base) };
}
