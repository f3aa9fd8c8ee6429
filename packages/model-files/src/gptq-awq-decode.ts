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
export function expectedPackedShapes(
  q: Pick<HfQuantization, 'method' | 'bits'>,
  groups: number,
  inFeatures: number,
  outFeatures: number,
): Record<string, number[]> {
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

/** The group of each block and the block size: from the group size, or from g_idx when it is given. */
function blockGroups(p: PackedLinear, group: number, label: string): { blockSize: number; groupOfBlock: Int32Array } {
  const K = p.inFeatures;
  let blockSize = blockSizeForGroup(group);
  if (blockSize === 0) throw new Error(`${label}: no power-of-two block ≥ 16 divides its ${group}-column groups`);
  const gIdx = p.gIdx;
  if (gIdx) {
    // A non-decreasing g_idx is contiguous groups (the usual ⌊i / group⌋, or groups shifted by a
    // tensor-parallel split): blocks work when every group starts on a block boundary. Act-order
    // permutes them, which blocks of contiguous columns cannot express.
    const groups = p.scales.length / p.outFeatures;
    for (let i = 0; i < K; i++) {
      const g = gIdx[i]!;
      if (g < 0 || g >= groups) throw new Error(`${label}.g_idx: input row ${i} names group ${g}, but there are ${groups}`);
      if (i === 0 || g === gIdx[i - 1]) continue;
      if (g < gIdx[i - 1]!) {
        throw new Error(
          `${label}.g_idx: input row ${i} is in group ${g}, after row ${i - 1} in group ${gIdx[i - 1]}: act-order (desc_act) groups are not ` +
            'contiguous input columns, which block-wise MatMulNBits cannot express; use a checkpoint quantized without desc_act (or with static_groups)',
        );
      }
      while (blockSize >= 16 && i % blockSize !== 0) blockSize /= 2;
      if (blockSize < 16) throw new Error(`${label}.g_idx: group ${g} starts at input row ${i}, not on a 16-column block boundary`);
    }
  }
  const groupOfBlock = Int32Array.from({ length: K / blockSize }, (_, b) => (gIdx ? gIdx[b * blockSize]! : Math.floor((b * blockSize) / group)));
  return { blockSize, groupOfBlock };
}

/** Writes the codes transposed to [out, in], one packed word at a time (the hot loop of loading a checkpoint). */
function unpackCodes(p: PackedLinear, q: HfQuantization, codes: Uint8Array): void {
  const { inFeatures: K, outFeatures: N, qweight } = p;
  if (q.method === 'gptq') {
    const perWord = 32 / q.bits;
    const mask = (1 << q.bits) - 1;
    for (let row = 0; row < K / perWord; row++) {
      for (let j = 0; j < N; j++) {
        const word = qweight[row * N + j]!;
        const base = j * K + row * perWord;
        for (let k = 0; k < perWord; k++) codes[base + k] = (word >>> (q.bits * k)) & mask;
      }
    }
    return;
  }
  // AWQ packs along out, so the transpose is done in tiles of input rows to keep the writes contiguous.
  const words = N / 8;
  const tile = 64;
  for (let i0 = 0; i0 < K; i0 += tile) {
    const i1 = Math.min(K, i0 + tile);
    for (let c = 0; c < words; c++) {
      for (let n = 0; n < 8; n++) {
        const shift = 4 * n;
        const base = (c * 8 + AWQ_PACK_ORDER[n]!) * K;
        for (let i = i0; i < i1; i++) codes[base + i] = (qweight[i * words + c]! >>> shift) & 15;
      }
    }
  }
}

/**
 * The zero point of group g, output column j. GPTQ v1 stores (z − 1) mod 2^bits; adding 1 back modulo
 * 2^bits (as AutoGPTQ's own kernel does) recovers every z the quantizer can produce, 0 … 2^bits − 1, z = 0 included.
 */
function zeroOf(p: PackedLinear, q: HfQuantization, g: number, j: number): number {
  if (q.method === 'awq') return (p.qzeros[g * (p.outFeatures / 8) + (j >> 3)]! >>> (4 * AWQ_NIBBLE_OF_COLUMN[j & 7]!)) & 15;
  const perWord = 32 / q.bits;
  const mask = (1 << q.bits) - 1;
  return (((p.qzeros[g * (p.outFeatures / perWord) + Math.floor(j / perWord)]! >>> (q.bits * (j % perWord))) & mask) + q.zeroAdjust) & mask;
}

/** Decodes one packed Linear into BlockAffine [out, in]; `label` (e.g. "model.layers.0.mlp.up_proj") names it in errors. */
export function decodePackedLinear(p: PackedLinear, q: HfQuantization, label: string): BlockAffine {
  const { inFeatures: K, outFeatures: N } = p;
  const group = groupColumns(q, K);
  if (K % group !== 0) throw new Error(`${label}: group size ${group} does not divide the ${K} input features`);
  const { blockSize, groupOfBlock } = blockGroups(p, group, label);

  const nb = K / blockSize;
  const zp = zeroPointOf(q.bits);
  const codes = new Uint8Array(N * K);
  const scales = new Float32Array(N * nb);
  const offsets = new Float32Array(N * nb);
  let anyOffset = false;
  unpackCodes(p, q, codes);
  for (let b = 0; b < nb; b++) {
    const g = groupOfBlock[b]!;
    for (let j = 0; j < N; j++) {
      const s = p.scales[g * N + j]!;
      const offset = Math.fround(s * (zp - zeroOf(p, q, g, j)));
      if (offset !== 0) anyOffset = true;
      scales[j * nb + b] = s;
      offsets[j * nb + b] = offset;
    }
  }
  // Symmetric GPTQ (z = 2^(bits−1) everywhere) needs no offsets term in the graph.
  return { bits: q.bits, blockSize, rows: N, cols: K, codes, scales, offsets: anyOffset ? offsets : null, source: q.method.toUpperCase() };
}
