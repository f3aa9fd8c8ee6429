// @module Round-to-nearest block quantization of a float matrix into BlockAffine (what `--quantize int8|int4` runs).
//
// Symmetric, one float scale per block, no offsets, the same rules as llama.cpp's Q8_0 and Q4_0:
//   int8  d = max|w| / 127,               code = round(w / d) + 128 ∈ [1, 255]
//   int4  d = m / −8 (m: the signed value of largest magnitude), code = clamp(round(w / d) + 8, 0, 15)
// For int4 the extreme value lands exactly on code 0, using all 16 levels; the opposite side reaches only 7·|d|
// = 7/8·|m| and clips beyond it. That finer step beats d = max|w| / 7 (15 levels, nothing clips) on weight error
// for bell-shaped weights (measured in docs/quantization.md), which is why llama.cpp chose it. d may be negative.
// The codes equal llama-quantize's Q4_0 / Q8_0 codes of the same floats exactly (rtn-vs-llama-cpp.test.ts);
// the scales stay float32 where llama.cpp rounds them to f16.

import type { BlockAffine } from './block-affine.ts';

/** Quantizes a row-major [rows, cols] matrix in blocks of `blockSize` columns (which must divide cols). */
export function quantizeRtn(matrix: Float32Array, rows: number, cols: number, bits: 4 | 8, blockSize = 32): BlockAffine {
  if (matrix.length !== rows * cols) throw new Error(`quantizeRtn: ${matrix.length} values for [${rows}, ${cols}]`);
  if (!(blockSize >= 16 && (blockSize & (blockSize - 1)) === 0) || cols % blockSize !== 0) {
    throw new Error(`quantizeRtn: block size ${blockSize} must be a power of two ≥ 16 that divides the ${cols} columns`);
  }
  const nb = cols / blockSize;
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(rows * nb);
  for (let blk = 0; blk < rows * nb; blk++) {
    const start = blk * blockSize; // rows are whole blocks, so block k of the matrix starts at k · blockSize
    let extreme = 0;
    for (let i = start; i < start + blockSize; i++) if (Math.abs(matrix[i]!) > Math.abs(extreme)) extreme = matrix[i]!;
    const d = Math.fround(bits === 4 ? extreme / -8 : Math.abs(extreme) / 127);
    scales[blk] = d;
    // float32 arithmetic as llama.cpp's quantize_row_q4_0_ref / q8_0_ref does it, so the codes are theirs bit for bit.
    const inv = d === 0 ? 0 : Math.fround(1 / d);
    if (bits === 4) {
      for (let i = start; i < start + blockSize; i++) codes[i] = Math.min(15, Math.max(0, Math.trunc(Math.fround(Math.fround(matrix[i]! * inv) + 8.5))));
    } else {
      for (let i = start; i < start + blockSize; i++) {
        const v = Math.fround(matrix[i]! * inv);
        codes[i] = Math.sign(v) * Math.round(Math.abs(v)) + 128; // roundf (halves away from zero); |v| ≤ 127
      }
    }
  }
  return { bits, blockSize, rows, cols, codes, scales, offsets: null, source: 'RTN' };
}
