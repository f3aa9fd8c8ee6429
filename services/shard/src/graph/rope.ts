// @module Rotary embedding tables: inverse frequencies with rope_scaling folded in, cos/sin per position.
import type { ModelConfig } from '@tessera/model-files';

/** Leading dims of each head that RoPE rotates (partial rotary: Phi-4-mini), the whole head otherwise. */
export function rotaryDimOf(config: ModelConfig): number {
  return config.rotaryDim ?? config.headDim;
}

/** Inverse frequencies (length rotaryDim/2) after linear, llama3, YaRN, dynamic NTK or LongRoPE scaling, as Hugging Face / vLLM compute them. */
export function ropeInverseFrequencies(config: ModelConfig): Float64Array {
  const dim = rotaryDimOf(config);
  const half = dim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / config.ropeTheta ** ((2 * i) / dim);
  const scaling = config.ropeScaling;
  if (scaling === null) return inv;
  if (scaling.type === 'linear') return inv.map((f) => f / scaling.factor);
  if (scaling.type === 'yarn') return yarnInverseFrequencies(inv, dim, config.ropeTheta, scaling);
  if (scaling.type === 'dynamic') {
    const base = config.ropeTheta * (scaling.factor * scaling.factor - scaling.factor + 1) ** (dim / (dim - 2));
    return inv.map((_, i) => 1 / base ** ((2 * i) / dim));
  }
  if (scaling.type === 'longrope') {
    // One set for the served context, as llama.cpp's get_rope_factors chooses it (RopeScaling's note).
    const factors = config.maxPositionEmbeddings > scaling.originalMaxPositionEmbeddings ? scaling.longFactor : scaling.shortFactor;
    return inv.map((f, i) => f / factors[i]!);
  }
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: oldCtx } = scaling;
  const lowFreqWavelen = oldCtx / lowFreqFactor;
  const highFreqWavelen = oldCtx / highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) return f;
    if (wavelen > lowFreqWavelen) return f / factor;
    const smooth = (oldCtx / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/**
 * YaRN with truncated correction dims (transformers' default, vLLM, llama.cpp's ggml_rope_yarn_corr_dims):
 * extrapolated frequencies below `low`, interpolated (÷ factor) above `high`, a linear ramp between.
 */
function yarnInverseFrequencies(inv: Float64Array, dim: number, base: number, s: Extract<ModelConfig['ropeScaling'], { type: 'yarn' }>): Float64Array {
  const correctionDim = (rotations: number) => (dim * Math.log(s.originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  const low = Math.max(Math.floor(correctionDim(s.betaFast)), 0);
  const high = Math.min(Math.ceil(correctionDim(s.betaSlow)), dim - 1);
  const span = high === low ? 0.001 : high - low;
  return inv.map((f, i) => {
    const extrapolation = 1 - Math.min(1, Math.max(0, (i - low) / span));
    return (f / s.factor) * (1 - extrapolation) + f * extrapolation;
  });
}

/** The factor transformers multiplies cos and sin by (`attention_scaling`): YaRN's and LongRoPE's, else 1. */
export function ropeAttentionScaling(config: ModelConfig): number {
  const s = config.ropeScaling;
  return s?.type === 'longrope' || s?.type === 'yarn' ? s.attentionFactor : 1;
}

/** Half-width tables `positions × rotaryDim/2` (cos, sin) in the layout of onnxruntime's RotaryEmbedding. */
export function ropeCaches(config: ModelConfig, positions: number): { cos: Float32Array; sin: Float32Array } {
  const half = rotaryDimOf(config) / 2;
  const inv = ropeInverseFrequencies(config);
  const m = ropeAttentionScaling(config);
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      cos[p * half + i] = m * Math.cos(p * inv[i]!);
      sin[p * half + i] = m * Math.sin(p * inv[i]!);
    }
  }
  return { cos, sin };
}
