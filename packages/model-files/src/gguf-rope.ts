// @module Recovers llama3 RoPE scaling parameters from a GGUF's `rope_freqs.weight` (per-frequency divisors).

import { ModelLoadError, type RopeScaling } from './types.ts';

type Llama3Scaling = Extract<RopeScaling, { type: 'llama3' }>;

/** The per-frequency divisors transformers' llama3 rope init (and llama.cpp's converter) derive. */
export function llama3FreqFactors(scaling: Llama3Scaling, headDim: number, ropeTheta: number): Float64Array {
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: context } = scaling;
  const lowFreqWavelen = context / lowFreqFactor;
  const highFreqWavelen = context / highFreqFactor;
  const out = new Float64Array(headDim / 2);
  for (let i = 0; i < out.length; i++) {
    const wavelen = 2 * Math.PI * ropeTheta ** ((2 * i) / headDim);
    if (wavelen < highFreqWavelen) out[i] = 1;
    else if (wavelen > lowFreqWavelen) out[i] = factor;
    else {
      const smooth = (context / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / factor + smooth);
    }
  }
  return out;
}

const round6 = (x: number): number => Number(x.toPrecision(6));

/**
 * llama.cpp stores llama3 scaling as divisors, not parameters. Only the wavelength thresholds
 * (context / lowFreqFactor, context / highFreqFactor) are determined, so `originalContext` (from metadata,
 * or Llama 3's 8192) is fixed and the two factors are solved from the smooth region, then checked.
 */
export function llama3ScalingFromFreqFactors(
  file: string,
  divisors: Float32Array,
  headDim: number,
  ropeTheta: number,
  originalContext: number,
): RopeScaling | null {
  if (divisors.length !== headDim / 2) {
    throw new ModelLoadError(file, `tensor "rope_freqs.weight" has ${divisors.length} values, expected ${headDim / 2}`);
  }
  const factor = round6(Math.max(...divisors));
  if (Math.abs(factor - 1) < 1e-6) return null;
  const smooth: { ratio: number; s: number }[] = [];
  divisors.forEach((d, i) => {
    if (Math.abs(d - 1) < 1e-6 || Math.abs(d - factor) < 1e-6 * factor) return;
    const wavelen = 2 * Math.PI * ropeTheta ** ((2 * i) / headDim);
    smooth.push({ ratio: originalContext / wavelen, s: (1 / d - 1 / factor) / (1 - 1 / factor) });
  });
  let lowFreqFactor = 1;
  let highFreqFactor = 4;
  if (smooth.length >= 2) {
    const a = smooth[0]!;
    const b = smooth[smooth.length - 1]!;
    const range = (a.ratio - b.ratio) / (a.s - b.s);
    lowFreqFactor = round6(a.ratio - a.s * range);
    highFreqFactor = round6(lowFreqFactor + range);
  }
  const scaling: Llama3Scaling = { type: 'llama3', factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: originalContext };
  const expected = llama3FreqFactors(scaling, headDim, ropeTheta);
  const worst = Math.max(...divisors.map((d, i) => Math.abs(d - expected[i]!) / expected[i]!));
  if (!(worst < 1e-3)) {
    throw new ModelLoadError(file, `tensor "rope_freqs.weight" does not match llama3 rope scaling (relative error ${worst.toExponential(2)})`);
  }
  return scaling;
}
