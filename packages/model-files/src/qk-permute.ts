// @module Q/K row order: llama.cpp's interleaved-pair (Meta) layout ⇄ Hugging Face's rotate_half layout.

/**
 * Per head of `headDim` rows, HF keeps the rotary pairs as (i, i + headDim/2) — "rotate_half" — while
 * llama.cpp's converter (and Meta's checkpoints) store them adjacent as (2i, 2i + 1). Works on [rows, cols]
 * weights and on [rows] biases (cols = 1).
 */
function reorderRows(data: Float32Array, rows: number, numHeads: number, toHf: boolean): Float32Array {
  if (rows % numHeads !== 0 || (rows / numHeads) % 2 !== 0) {
    throw new RangeError(`cannot split ${rows} rows into ${numHeads} heads of an even size`);
  }
  const cols = data.length / rows;
  const headDim = rows / numHeads;
  const half = headDim / 2;
  const out = new Float32Array(data.length);
  for (let head = 0; head < numHeads; head++) {
    const base = head * headDim;
    for (let i = 0; i < half; i++) {
      for (let side = 0; side < 2; side++) {
        const interleavedRow = base + 2 * i + side;
        const rotateHalfRow = base + side * half + i;
        const [from, to] = toHf ? [interleavedRow, rotateHalfRow] : [rotateHalfRow, interleavedRow];
        out.set(data.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

/** GGUF (interleaved pairs) → HF (rotate_half). `rows` is shape[0]; numHeads is heads for Q, KV heads for K. */
export function unpermuteQk(data: Float32Array, rows: number, numHeads: number): Float32Array {
  return reorderRows(data, rows, numHeads, true);
}

/** HF (rotate_half) → GGUF (interleaved pairs): what llama.cpp's convert_hf_to_gguf.py `permute` does. */
export function permuteQk(data: Float32Array, rows: number, numHeads: number): Float32Array {
  return reorderRows(data, rows, numHeads, false);
}

/** unpermuteQk as a row order: HF row i is GGUF row order[i] (for matrices kept quantized, moved whole rows at a time). */
export function unpermuteQkOrder(rows: number, numHeads: number): Int32Array {
  const index = new Float32Array(rows).map((_, i) => i);
  return Int32Array.from(reorderRows(index, rows, numHeads, true));
}
