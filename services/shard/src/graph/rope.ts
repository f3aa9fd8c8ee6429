// @module Rotary embedding tables: inverse frequencies with rope_scaling folded in, cos/sin per position.
import type { ModelConfig } from '@tessera/model-files';

/** Leading dims of each head that RoPE rotates (partial rotary: Phi-4-mini), the whole head otherwise. */
export function rotaryDimOf(config: ModelConfig): number {
  return config.rotaryDim ?? config.headDim;
}

/** Inverse frequencies (length rotaryDim/2) after linear, llama3 or LongRoPE scaling, as Hugging Face computes them. */
export function ropeInverseFrequencies(config: ModelConfig): Float64Array {
  const dim = rotaryDimOf(config);
  const half = dim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / dim);
  const scaling = config.ropeScaling;
  if (scaling === null) return inv;
  if (scaling.type === 'linear') return inv.map((f) => f / scaling.factor);
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

/** The factor transformers multiplies cos and sin by (`attention_scaling`): LongRoPE's, else 1. */
export function ropeAttentionScaling(config: ModelConfig): number {
  return config.ropeScaling?.type === 'longrope' ? config.ropeScaling.attentionFactor : 1;
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
