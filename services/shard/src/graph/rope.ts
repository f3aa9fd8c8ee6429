// @module Rotary embedding tables: inverse frequencies with rope_scaling folded in, cos/sin per position.
import type { ModelConfig } from '@tessera/model-files';

/** Inverse frequencies (length headDim/2) after linear or llama3 scaling, as Hugging Face computes them. */
export function ropeInverseFrequencies(config: ModelConfig): Float64Array {
  const half = config.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / config.headDim);
  const scaling = config.ropeScaling;
  if (scaling === null) return inv;
  if (scaling.type === 'linear') return inv.map((f) => f / scaling.factor);
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
 * Tables of `positions × headDim` for the rotate_half form: `cos` is [cos, cos] and `sinSigned` is
 * [-sin, sin], so rope(x) = x·cos + concat(x2, x1)·sinSigned.
 */
export function ropeTables(config: ModelConfig, positions: number): { cos: Float32Array; sinSigned: Float32Array } {
  const d = config.headDim;
  const half = d / 2;
  const inv = ropeInverseFrequencies(config);
  const cos = new Float32Array(positions * d);
  const sinSigned = new Float32Array(positions * d);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * inv[i]!;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * d + i] = c;
      cos[p * d + half + i] = c;
      sinSigned[p * d + i] = -s;
      sinSigned[p * d + half + i] = s;
    }
  }
  return { cos, sinSigned };
}

/** Half-width tables `positions × headDim/2` (cos, sin) in the layout of onnxruntime's RotaryEmbedding. */
export function ropeCaches(config: ModelConfig, positions: number): { cos: Float32Array; sin: Float32Array } {
  const half = config.headDim / 2;
  const inv = ropeInverseFrequencies(config);
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      cos[p * half + i] = Math.cos(p * inv[i]!);
      sin[p * half + i] = Math.sin(p * inv[i]!);
    }
  }
  return { cos, sin };
}
