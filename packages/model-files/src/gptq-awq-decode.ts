// @module GPTQ and AWQ packed Linear weights (qweight/qzeros/scales[/g_idx]) → BlockAffine [out, in], exactly.
//
// Both formats store, per input group g and output column j, a scale s[g, j] and an integer zero z[g, j], and
// value(i, j) = s · (q − z). BlockAffine fixes the zero point at 2^(bits−1) (MatMulNBits' fast kernels take
// no other), so z becomes a per-block offset: s · (q − zp) + s · (zp − z). Both products are exact in float32
// (an f16 scale times an integer below 2^9), so the expansion reproduces s · (q − z) bit for bit.
//
//   GPTQ  qweight int32 [in · bits / 32, out]: word (p, j) holds rows p·k … p·k + k − 1 of column j (k = 32 / bits),
//         the first in the low bits. qzeros int32 [groups, out · bits / 32] packs along out the same way.
//   AWQ   qweight int32 [in, out / 8]: word (i, c) holds columns 8c … 8c + 7 of row i in the nibble order
//         [0, 2, 4, 6, 1, 3, 5, 7] (AutoAWQ's GEMM packing: nibble n holds column 8c + ORDER[n]); qzeros likewise.

import { type BlockAffine, zeroPointOf } from './block-affine.ts';
import type { HfQuantization } from './hf-quantization-config.ts';

/** AutoAWQ's pack order: nibble n of a word holds column AWQ_PACK_ORDER[n] of its group of 8. */
export const AWQ_PACK_ORDER = [0, 2, 4, 6, 1, 3, 5, 7] as const;
/** Its inverse: column p of a group of 8 sits in nibble AWQ_NIBBLE_OF_COLUMN[p]. */
const AWQ_NIBBLE_OF_COLUMN = [0, 4, 1, 5, 2, 6, 3, 7] as const;

/** The tensors of one packed Linear, as read from the file. */
export interface PackedLinear {
  qweight: Int32Array;
  qzeros: Int32Array;
  /** [groups, out], converted to float32 (f16 in the files: exact). */
  scales: Float32Array;
  /** GPTQ only: the group of each input row, [in]; null when absent. */
  gIdx: Int32Array | null;
  inFeatures: number;
  outFeatures: number;
}

/** [in, out] of a packed Linear from its qweight shape. */
export function packedLinearDims(q: Pick<HfQuantization, 'method' | 'bits'>, qweightShape: readonly number[]): { inFeatures: number; outFeatures: number } {
  const perWord = 32 / q.bits;
  const [a, b] = qweightShape as [number, number];
  return q.method === 'gptq' ? { inFeatures: a * perWord, outFeatures: b } : { inFeatures: a, outFeatures: b * perWord };
}

/** The shapes a packed Linear of [in, out] must have, by tensor suffix (g_idx only for GPTQ). */
export function expectedPackedShapes(q: Pick<HfQuantization, 'method' | 'bits'>, groups: number, inFeatures: number, outFeatures: number): Record<string, number[]> {
  const perWord = 32 / q.bits;
  const shapes: Record<string, number[]> = {
    qweight: q.method === 'gptq' ? [inFeatures / perWord, outFeatures] : [inFeatures, outFeatures / perWord],
    qzeros: [groups, outFeatures / perWord],
    scales: [groups, outFeatures],
  };
  if (q.method === 'gptq') shapes['g_idx'] = [inFeatures];
  return shapes;
}

/** Columns per group: the configured size, or all of `in` for GPTQ's per-row -1. */
export function groupColumns(q: Pick<HfQuantization, 'groupSize'>, inFeatures: number): number {
  return q.groupSize === -1 ? inFeatures : q.groupSize;
}

/**
 * The BlockAffine block size for a group of `groupColumns`: the group itself, or, for a group too wide for
 * MatMulNBits (per-row groups; > 256), its largest power-of-two divisor ≤ 128 — smaller blocks repeating the
 * group's scale and zero are the same values. Returns 0 when no power of two ≥ 16 divides it.
 */
export function blockSizeForGroup(groupColumns: number): number {
  if (groupColumns <= 256 && groupColumns >= 16 && (groupColumns & (groupColumns - 1)) === 0) return groupColumns;
  for (let size = 128; size >= 16; size /= 2) if (groupColumns % size === 0) return size;
  return 0;
}

/** Checks g_idx is the plain i ↦ ⌊i / group⌋ (act-order permutes groups, which blocks cannot express). */
function checkTrivialGroupIndex(gIdx: Int32Array, group: number, label: string): void {
  for (let i = 0; i < gIdx.length; i++) {
    if (gIdx[i] !== Math.floor(i / group)) {
      throw new Error(
        `${label}.g_idx: input row ${i} is in group ${gIdx[i]}, not ${Math.floor(i / group)}: act-order (desc_act) groups are not ` +
          'contiguous input columns, which block-wise MatMulNBits cannot express; use a checkpoint quantized without desc_act (or with static_groups)',
      );
    }
  }
}

/** Unpacked codes [in, out] and zeros [groups, out] of either format, before the common block mapping. */
interface Unpacked {
  code(i: number, j: number): number;
  zero(g: number, j: number): number;
}

function unpackGptq(p: PackedLinear, q: HfQuantization): Unpacked {
  const { bits } = q;
  const perWord = 32 / bits;
  const mask = (1 << bits) - 1;
  const out = p.outFeatures;
  const zeroWords = out / perWord;
  return {
    code: (i, j) => (p.qweight[Math.floor(i / perWord) * out + j]! >>> (bits * (i % perWord))) & mask,
    zero: (g, j) => ((p.qzeros[g * zeroWords + Math.floor(j / perWord)]! >>> (bits * (j % perWord))) & mask) + q.zeroAdjust,
  };
}

function unpackAwq(p: PackedLinear): Unpacked {
  const words = p.outFeatures / 8;
  const nibble = (word: number, j: number) => (word >>> (4 * AWQ_NIBBLE_OF_COLUMN[j & 7]!)) & 15;
  return {
    code: (i, j) => nibble(p.qweight[i * words + (j >> 3)]!, j),
    zero: (g, j) => nibble(p.qzeros[g * words + (j >> 3)]!, j),
  };
}

/** Decodes one packed Linear into BlockAffine [out, in]; `label` (e.g. "model.layers.0.mlp.up_proj") names it in errors. */
export function decodePackedLinear(p: PackedLinear, q: HfQuantization, label: string): BlockAffine {
  const { inFeatures: K, outFeatures: N } = p;
  const group = groupColumns(q, K);
  if (K % group !== 0) throw new Error(`${label}: group size ${group} does not divide the ${K} input features`);
  const blockSize = blockSizeForGroup(group);
  if (blockSize === 0) throw new Error(`${label}: no power-of-two block ≥ 16 divides its ${group}-column groups`);
  if (p.gIdx) checkTrivialGroupIndex(p.gIdx, group, label);
  const unpacked = q.method === 'gptq' ? unpackGptq(p, q) : unpackAwq(p);

  const nb = K / blockSize;
  const blocksPerGroup = group / blockSize;
  const zp = zeroPointOf(q.bits);
  const codes = new Uint8Array(N * K);
  const scales = new Float32Array(N * nb);
  const offsets = new Float32Array(N * nb);
  let anyOffset = false;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < N; j++) codes[j * K + i] = unpacked.code(i, j);
  }
  for (let g = 0; g < K / group; g++) {
    for (let j = 0; j < N; j++) {
      const s = p.scales[g * N + j]!;
      const offset = Math.fround(s * (zp - unpacked.zero(g, j)));
      if (offset !== 0) anyOffset = true;
      for (let b = g * blocksPerGroup; b < (g + 1) * blocksPerGroup; b++) {
        scales[j * nb + b] = s;
        offsets[j * nb + b] = offset;
      }
    }
  }
  // Symmetric GPTQ (z = 2^(bits−1) everywhere) needs no offsets term in the graph.
  return { bits: q.bits, blockSize, rows: N, cols: K, codes, scales, offsets: anyOffset ? offsets : null, source: q.method.toUpperCase() };
}
