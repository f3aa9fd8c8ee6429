// @module GGUF metadata (`llama.*`, `qwen2.*` keys) → ModelConfig.

import path from 'node:path';
import type { GgufFile, GgufValue } from './gguf.ts';
import { llama3ScalingFromFreqFactors } from './gguf-rope.ts';
import { ggufMoe } from './moe-config.ts';
import { readGgufTensor } from './gguf.ts';
import { ModelLoadError, type ModelConfig, type RopeScaling } from './types.ts';

const ARCHITECTURES: Record<string, ModelConfig['architecture']> = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3moe: 'Qwen3MoeForCausalLM',
};

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
  return meta.fail(`${arch}.rope.scaling.type`, `value "${type}" is not supported (supported: none, linear, llama3 via rope_freqs)`);
}

/** Reads the hyper-parameters; the vocab size comes from metadata, else the embedding's rows, else the token list. */
export function ggufModelConfig(gguf: GgufFile): ModelConfig {
  const meta = new GgufMetadata(gguf);
  const arch = meta.string('general.architecture');
  const intermediateSize = gguf.metadata.has(`${arch}.feed_forward_length`) ? meta.positiveInt(`${arch}.feed_forward_length`) : 0;
  const moe = ARCHITECTURES[arch] ? ggufMoe(meta, arch, intermediateSize) : undefined;
  // Mixtral is written as `llama` with experts (convert_hf_to_gguf.py MixtralModel).
  const architecture = arch === 'llama' && moe ? 'MixtralForCausalLM' : ARCHITECTURES[arch];
  if (!architecture) {
    throw new ModelLoadError(meta.label, `architecture "${arch}" is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`);
  }
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
  if (ropeDims !== headDim) meta.fail(`${arch}.rope.dimension_count`, `(${ropeDims}) differs from the head size ${headDim} (partial rotary is not supported)`);

  const tokens = gguf.metadata.get('tokenizer.ggml.tokens');
  const embedding = gguf.tensors.get('token_embd.weight');
  const vocabFallback = embedding?.shape[0] ?? (Array.isArray(tokens) ? tokens.length : undefined);
  const ropeTheta = float32Decimal(meta.number(`${arch}.rope.freq_base`, 10000));

  return {
    architecture,
    hiddenSize,
    intermediateSize: moe && intermediateSize === 0 ? moe.expertIntermediateSize : meta.positiveInt(`${arch}.feed_forward_length`),
    numLayers: meta.positiveInt(`${arch}.block_count`),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: meta.positiveInt(`${arch}.vocab_size`, vocabFallback),
    rmsNormEps: float32Decimal(meta.number(`${arch}.attention.layer_norm_rms_epsilon`)),
    ropeTheta,
    ropeScaling: ropeScalingOf(meta, arch, headDim, ropeTheta),
    maxPositionEmbeddings: meta.positiveInt(`${arch}.context_length`),
    tieWordEmbeddings: !gguf.tensors.has('output.weight'),
    attentionBias: architecture === 'Qwen2ForCausalLM' || gguf.tensors.has('blk.0.attn_q.bias'),
    slidingWindow: null,
    ...(moe ? { moe } : {}),
    ...(architecture === 'Qwen3MoeForCausalLM' ? { qkNorm: true } : {}),
  };
}
