// @module Linear layers and embedding lookups over float or quantized (block-affine) weights: Gemm, or MatMulNBits + a block-sum term.
import { type BlockAffine, concatBlockAffineRows, sameBlockLayout, zeroPointOf } from '@tessera/model-files';
import { isQuantized, type Matrix } from '../weights/shard-weights.ts';
import { concatRows } from './concat-rows.ts';
import { type OnnxGraphBuilder, onnxTypeOf } from './onnx-builder.ts';

/**
 * MatMulNBits' accuracy_level: 4 quantizes the activations to int8 per block and runs integer dot
 * products (what llama.cpp does with its Q8 activations; its only fast path for 8-bit weights), 0 keeps
 * float32 activations and accumulation (4-bit only is fast then). Measured in docs/quantization.md.
 */
export type QuantAccuracy = 'int8' | 'float32';

/** What every linear layer of one graph shares: where the block sums of an input were already computed. */
export class LinearContext {
  readonly #blockSums = new Map<string, string>();
  constructor(
    readonly b: OnnxGraphBuilder,
    readonly accuracy: QuantAccuracy = 'int8',
  ) {}

  /** Σ of x [R, K] over each block of `blockSize` columns → [R, K / blockSize], once per (x, block size). */
  blockSums(x: string, K: number, blockSize: number): string {
    const key = `${x}/${blockSize}`;
    let sums = this.#blockSums.get(key);
    if (!sums) {
      const blocks = this.b.op('Reshape', [x, this.b.constant('int64', [0, K / blockSize, blockSize])]);
      sums = this.b.op('ReduceSum', [blocks, this.b.constant('int64', [2])], { keepdims: 0 });
      this.#blockSums.set(key, sums);
    }
    return sums;
  }
}

/** MatMulNBits' B: [N, K / blockSize, blockSize · bits / 8] bytes; 4-bit codes two per byte, the first in the low nibble. */
export function packMatMulNBits(q: BlockAffine): Uint8Array {
  if (q.bits === 8) return q.codes;
  const packed = new Uint8Array(q.codes.length / 2);
  const codes = q.codes;
  for (let i = 0, j = 0; j < packed.length; i += 2, j++) packed[j] = (codes[i]! & 15) | ((codes[i + 1]! & 15) << 4);
  return packed;
}

/** The initializers of a quantized matrix: packed codes, scales [N·nb] and offsets [N, nb] (when present). */
export interface QuantizedInitializers {
  q: BlockAffine;
  codes: string;
  scales: string;
  offsets: string | null;
}

export function quantizedInitializers(b: OnnxGraphBuilder, name: string, q: BlockAffine, shareKey?: string): QuantizedInitializers {
  const nb = q.cols / q.blockSize;
  const key = (part: string) => (shareKey === undefined ? undefined : `${shareKey}.${part}`);
  return {
    q,
    codes: b.bytesWeight(`${name}.codes`, packMatMulNBits(q), [q.rows, nb, (q.blockSize * q.bits) / 8], key('codes')),
    scales: b.weight(`${name}.scales`, q.scales, [q.rows * nb], key('scales')),
    offsets: q.offsets ? b.weight(`${name}.offsets`, q.offsets, [q.rows, nb], key('offsets')) : null,
  };
}

/** x [R, K] × Wᵀ for a quantized W [N, K]: MatMulNBits, plus (block sums of x) · offsetsᵀ when W has offsets. */
export function quantizedMatMul(ctx: LinearContext, x: string, w: QuantizedInitializers): string {
  const { q } = w;
  const y = ctx.b.op('com.microsoft.MatMulNBits', [x, w.codes, w.scales], {
    K: q.cols,
    N: q.rows,
    bits: q.bits,
    block_size: q.blockSize,
    accuracy_level: ctx.accuracy === 'int8' ? 4 : 0,
  });
  if (!w.offsets) return y;
  return ctx.b.op('Add', [y, ctx.b.op('Gemm', [ctx.blockSums(x, q.cols, q.blockSize), w.offsets], { transB: 1 })]);
}

/**
 * x [R, K] through the stacked rows of `parts` (e.g. Q, K, V), one output [R, rows of part] per part. Parts
 * of one kind and layout share a node (one Gemm or one MatMulNBits, then Split); a mixed group — a GGUF
 * preset that keeps V in Q6_K next to Q4_K for Q and K — gets a node per part.
 */
export function linear(ctx: LinearContext, name: string, x: string, parts: Matrix[], K: number, biases?: Float32Array[]): string[] {
  const { b } = ctx;
  const rowsOf = (m: Matrix) => (isQuantized(m) ? m.rows : m.length / K);
  const withBias = (y: string, bias: Float32Array | undefined, label: string) => (bias ? b.op('Add', [y, b.weight(`${label}.bias`, bias, [bias.length])]) : y);
  const split = (y: string) => (parts.length === 1 ? [y] : b.node('Split', [y, b.constant('int64', parts.map(rowsOf))], { axis: 1 }, parts.length));
  const allFloat = parts.every((m) => !isQuantized(m));
  if (allFloat) {
    const floats = parts as Float32Array[];
    const rows = floats.reduce((n, m) => n + m.length / K, 0);
    const inputs = [x, b.weight(name, floats.length === 1 ? floats[0]! : concatRows(floats), [rows, K])];
    if (biases) inputs.push(b.weight(`${name}.bias`, concatRows(biases), [rows]));
    return split(b.op('Gemm', inputs, { transB: 1 }));
  }
  const quantized = parts.filter(isQuantized);
  if (quantized.length === parts.length && sameBlockLayout(quantized)) {
    const y = quantizedMatMul(ctx, x, quantizedInitializers(b, name, quantized.length === 1 ? quantized[0]! : concatBlockAffineRows(quantized)));
    return split(withBias(y, biases ? concatRows(biases) : undefined, name));
  }
  return parts.map((m, i) => {
    const label = `${name}.${i}`;
    const y = isQuantized(m)
      ? quantizedMatMul(ctx, x, quantizedInitializers(b, label, m))
      : b.op('Gemm', [x, b.weight(label, m, [m.length / K, K])], { transB: 1 });
    return withBias(y, biases?.[i], label);
  });
}

/** An embedding table: a float initializer, or a quantized one (shared with a tied LM head). */
export type EmbeddingTable = { kind: 'float'; name: string } | { kind: 'quantized'; w: QuantizedInitializers };

/**
 * Rows `ids` of a table [V, H] → [..ids, H] in the compute type. A quantized table is gathered as codes
 * and expanded in the graph (only the gathered rows are ever float).
 */
export function gatherRows(b: OnnxGraphBuilder, table: EmbeddingTable, ids: string, dtype: 'float32' | 'float16'): string {
  if (table.kind === 'float') return b.op('Gather', [table.name, ids], { axis: 0 });
  const { q, codes, scales, offsets } = table.w;
  const nb = q.cols / q.blockSize;
  const to = { to: onnxTypeOf(dtype) };
  const packed = b.op('Cast', [b.op('Gather', [codes, ids], { axis: 0 })], to); // [..ids, nb, blob]
  let values: string;
  if (q.bits === 8) values = packed;
  else {
    // Two 4-bit codes per byte, low nibble first: hi = ⌊p / 16⌋, lo = p − 16·hi (float math runs on every provider).
    const sixteen = b.constant('float32', [16], []);
    const hi = b.op('Floor', [b.op('Div', [packed, dtype === 'float16' ? b.op('Cast', [sixteen], to) : sixteen])]);
    const lo = b.op('Sub', [packed, b.op('Mul', [hi, dtype === 'float16' ? b.op('Cast', [sixteen], to) : sixteen])]);
    const pairs = b.op('Concat', [b.op('Unsqueeze', [lo, b.constant('int64', [-1])]), b.op('Unsqueeze', [hi, b.constant('int64', [-1])])], { axis: -1 });
    values = b.op('Reshape', [pairs, b.constant('int64', [0, 0, 0, q.blockSize])]); // [B, S, nb, blockSize]
  }
  const zp = b.constant('float32', [zeroPointOf(q.bits)], []);
  const perBlock = (t: string) =>
    b.op('Unsqueeze', [b.op('Gather', [b.op('Reshape', [t, b.constant('int64', [q.rows, nb])]), ids], { axis: 0 }), b.constant('int64', [-1])]);
  let rows = b.op('Mul', [b.op('Sub', [values, dtype === 'float16' ? b.op('Cast', [zp], to) : zp]), perBlock(scales)]);
  if (offsets) rows = b.op('Add', [rows, perBlock(offsets)]);
  return b.op('Reshape', [rows, b.op('Concat', [b.op('Shape', [ids]), b.constant('int64', [q.cols])], { axis: 0 })]);
}
