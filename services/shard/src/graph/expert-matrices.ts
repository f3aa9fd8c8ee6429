// @module A layer's experts as two wide matrices: gate/up rows stacked, down columns side by side (float or block-quantized).
import { type BlockAffine, concatBlockAffineRows, expandBlockAffine, sameBlockLayout } from '@tessera/model-files';
import { isQuantized, type Matrix } from '../weights/shard-weights.ts';
import { concatRows } from './concat-rows.ts';

/** Matrices of one kind stay in it; a mix (never in one GGUF stack) is expanded to float. */
function uniform(parts: Matrix[]): { float: Float32Array[] } | { quantized: BlockAffine[] } {
  const quantized = parts.filter(isQuantized);
  if (quantized.length === parts.length && sameBlockLayout(quantized)) return { quantized };
  return { float: parts.map((m) => (isQuantized(m) ? expandBlockAffine(m) : m)) };
}

/** [Σ rows, cols]: the parts' rows one after another (expert 0's rows first). */
export function stackRows(parts: Matrix[]): Matrix {
  const u = uniform(parts);
  return 'quantized' in u ? concatBlockAffineRows(u.quantized) : concatRows(u.float);
}

/** [rows, Σ cols]: each row is the parts' rows side by side (expert 0's columns first). Every part has `rows` rows. */
export function stackColumns(parts: Matrix[], rows: number): Matrix {
  const u = uniform(parts);
  if ('quantized' in u) return concatBlockAffineColumns(u.quantized);
  const widths = u.float.map((p) => p.length / rows);
  const cols = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let at = r * cols;
    u.float.forEach((p, i) => {
      out.set(p.subarray(r * widths[i]!, (r + 1) * widths[i]!), at);
      at += widths[i]!;
    });
  }
  return out;
}

/** Column concatenation of block-quantized matrices of one code width and block size (whole blocks move, so it is exact). */
export function concatBlockAffineColumns(parts: BlockAffine[]): BlockAffine {
  const first = parts[0]!;
  if (parts.some((p) => p.bits !== first.bits || p.blockSize !== first.blockSize || p.rows !== first.rows)) throw new Error('concatBlockAffineColumns: the parts differ in bits, block size or rows');
  const { rows, blockSize } = first;
  const cols = parts.reduce((n, p) => n + p.cols, 0);
  const nb = cols / blockSize;
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(rows * nb);
  const offsets = parts.some((p) => p.offsets) ? new Float32Array(rows * nb) : null;
  for (let r = 0; r < rows; r++) {
    let col = 0;
    for (const p of parts) {
      const pnb = p.cols / blockSize;
      codes.set(p.codes.subarray(r * p.cols, (r + 1) * p.cols), r * cols + col);
      scales.set(p.scales.subarray(r * pnb, (r + 1) * pnb), r * nb + col / blockSize);
      if (offsets && p.offsets) offsets.set(p.offsets.subarray(r * pnb, (r + 1) * pnb), r * nb + col / blockSize);
      col += p.cols;
    }
  }
  return { bits: first.bits, blockSize, rows, cols, codes, scales, offsets, source: [...new Set(parts.map((p) => p.source))].join('+') };
}
