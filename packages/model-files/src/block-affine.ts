// @module Block-affine quantized matrices: the one in-memory form every quantized source (GGUF blocks, GPTQ/AWQ, --quantize) is turned into.
//
// A [rows, cols] matrix (Linear weights [out, in], embeddings [vocab, hidden]) is cut along each row into
// blocks of `blockSize` columns. Element (r, c) in block b = ⌊c / blockSize⌋ is
//
//     value = scales[r·nb + b] · (codes[r·cols + c] − 2^(bits−1)) + (offsets ? offsets[r·nb + b] : 0)
//
// with nb = cols / blockSize. The fixed zero point 2^(bits−1) (8 for 4-bit, 128 for 8-bit) is the one
// onnxruntime's MatMulNBits assumes when no zero_points input is given, and the only kind of zero point
// its fast CPU kernels take (a float zero point runs a dequantize-everything path, ~100× slower, measured
// in docs/quantization.md). Block minimums (Q4_1, Q5_1, the K-quants' mins, AWQ/GPTQ zero points) are
// carried as a per-block float `offsets` term instead: the graph adds offsets · (block sums of the
// activations), an exact rewrite of the same affine map.

export interface BlockAffine {
  /** Bits per code: 4 (codes 0..15) or 8 (codes 0..255). */
  bits: 4 | 8;
  /** Columns per block: a power of two ≥ 16 (MatMulNBits' constraint). */
  blockSize: number;
  rows: number;
  cols: number;
  /** One unsigned code per element, row-major [rows, cols] (unpacked; packing is the graph builder's job). */
  codes: Uint8Array;
  /** Per block, row-major [rows, cols / blockSize]. */
  scales: Float32Array;
  /** Per block additive term, [rows, cols / blockSize]; null when every block's is 0. */
  offsets: Float32Array | null;
  /** Where it came from, for logs and /info: a GGML type name ("Q4_K"), "GPTQ", "AWQ" or "RTN". */
  source: string;
}

/** The implicit zero point of a code width. */
export function zeroPointOf(bits: 4 | 8): number {
  return 1 << (bits - 1);
}

/** Expands a BlockAffine matrix to float32 (tests, references, and paths that need floats). */
export function expandBlockAffine(q: BlockAffine): Float32Array {
  const { rows, cols, blockSize, codes, scales, offsets } = q;
  const zp = zeroPointOf(q.bits);
  const nb = cols / blockSize;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const s = scales[r * nb + b]!;
      const o = offsets ? offsets[r * nb + b]! : 0;
      const base = r * cols + b * blockSize;
      if (o === 0) for (let i = 0; i < blockSize; i++) out[base + i] = s * (codes[base + i]! - zp);
      else for (let i = 0; i < blockSize; i++) out[base + i] = s * (codes[base + i]! - zp) + o;
    }
  }
  return out;
}

/** Checks the invariants; throws naming `label` when one does not hold. */
export function checkBlockAffine(q: BlockAffine, label: string): void {
  const nb = q.cols / q.blockSize;
  const fail = (why: string) => {
    throw new Error(`${label}: ${why}`);
  };
  if (q.bits !== 4 && q.bits !== 8) fail(`bits ${String(q.bits)} is not 4 or 8`);
  if (!(q.blockSize >= 16 && (q.blockSize & (q.blockSize - 1)) === 0)) fail(`block size ${q.blockSize} is not a power of two ≥ 16`);
  if (!Number.isInteger(nb)) fail(`${q.cols} columns are not a whole number of ${q.blockSize}-blocks`);
  if (q.codes.length !== q.rows * q.cols) fail(`${q.codes.length} codes for [${q.rows}, ${q.cols}]`);
  if (q.scales.length !== q.rows * nb) fail(`${q.scales.length} scales for ${q.rows * nb} blocks`);
  if (q.offsets && q.offsets.length !== q.rows * nb) fail(`${q.offsets.length} offsets for ${q.rows * nb} blocks`);
}

/** Rows [start, start + count) (a copy). */
export function sliceBlockAffineRows(q: BlockAffine, start: number, count: number): BlockAffine {
  if (start === 0 && count === q.rows) return q;
  const nb = q.cols / q.blockSize;
  return {
    ...q,
    rows: count,
    codes: q.codes.slice(start * q.cols, (start + count) * q.cols),
    scales: q.scales.slice(start * nb, (start + count) * nb),
    offsets: q.offsets ? q.offsets.slice(start * nb, (start + count) * nb) : null,
  };
}

/** Columns [start, start + count), which must lie on block boundaries (tensor-parallel row-parallel slices). */
export function sliceBlockAffineColumns(q: BlockAffine, start: number, count: number, label: string): BlockAffine {
  if (start === 0 && count === q.cols) return q;
  if (start % q.blockSize !== 0 || count % q.blockSize !== 0) {
    throw new Error(
      `${label}: columns ${start}..${start + count} do not fall on ${q.blockSize}-column quantization blocks; choose a shard count that splits it on block boundaries`,
    );
  }
  const nb = q.cols / q.blockSize;
  const b0 = start / q.blockSize;
  const nbOut = count / q.blockSize;
  const codes = new Uint8Array(q.rows * count);
  const scales = new Float32Array(q.rows * nbOut);
  const offsets = q.offsets ? new Float32Array(q.rows * nbOut) : null;
  for (let r = 0; r < q.rows; r++) {
    codes.set(q.codes.subarray(r * q.cols + start, r * q.cols + start + count), r * count);
    scales.set(q.scales.subarray(r * nb + b0, r * nb + b0 + nbOut), r * nbOut);
    if (offsets) offsets.set(q.offsets!.subarray(r * nb + b0, r * nb + b0 + nbOut), r * nbOut);
  }
  return { ...q, cols: count, codes, scales, offsets };
}

/** Row permutation: out row i = in row order[i] (GGUF Q/K un-permutation works on whole rows). */
export function permuteBlockAffineRows(q: BlockAffine, order: ArrayLike<number>): BlockAffine {
  const nb = q.cols / q.blockSize;
  const codes = new Uint8Array(q.codes.length);
  const scales = new Float32Array(q.scales.length);
  const offsets = q.offsets ? new Float32Array(q.offsets.length) : null;
  for (let i = 0; i < q.rows; i++) {
    const from = order[i]!;
    codes.set(q.codes.subarray(from * q.cols, (from + 1) * q.cols), i * q.cols);
    scales.set(q.scales.subarray(from * nb, (from + 1) * nb), i * nb);
    if (offsets) offsets.set(q.offsets!.subarray(from * nb, (from + 1) * nb), i * nb);
  }
  return { ...q, codes, scales, offsets };
}

/** Every value multiplied by `factor` (scales and offsets; e.g. attention's 1/√d folded into Q). */
export function scaleBlockAffine(q: BlockAffine, factor: number): BlockAffine {
  return { ...q, scales: q.scales.map((s) => s * factor), offsets: q.offsets ? q.offsets.map((o) => o * factor) : null };
}

/** Whether matrices can share one MatMulNBits node (same code width, block size and row length). */
export function sameBlockLayout(parts: readonly BlockAffine[]): boolean {
  const first = parts[0];
  return first !== undefined && parts.every((p) => p.bits === first.bits && p.blockSize === first.blockSize && p.cols === first.cols);
}

/** Rows of several matrices of one block layout stacked (fused Q/K/V or gate/up); offsets of 0 fill in where a part has none. */
export function concatBlockAffineRows(parts: readonly BlockAffine[]): BlockAffine {
  if (!sameBlockLayout(parts)) throw new Error('concatBlockAffineRows: the parts differ in bits, block size or row length');
  const first = parts[0]!;
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const nb = first.cols / first.blockSize;
  const codes = new Uint8Array(rows * first.cols);
  const scales = new Float32Array(rows * nb);
  const offsets = parts.some((p) => p.offsets) ? new Float32Array(rows * nb) : null;
  let row = 0;
  for (const p of parts) {
    codes.set(p.codes, row * first.cols);
    scales.set(p.scales, row * nb);
    if (offsets && p.offsets) offsets.set(p.offsets, row * nb);
    row += p.rows;
  }
  const sources = [...new Set(parts.map((p) => p.source))];
  return { bits: first.bits, blockSize: first.blockSize, rows, cols: first.cols, codes, scales, offsets, source: sources.join('+') };
}
