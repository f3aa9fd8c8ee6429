// @module One rank's slice of the weights (Megatron layout): heads / FFN columns / vocabulary ranges, read then sliced.
import { type BlockAffine, type LoadedModel, type ModelConfig, moeTensorNames, sliceBlockAffineColumns, sliceBlockAffineRows } from '@tessera/model-files';
import { ParallelPlanError } from '../errors.ts';

/** A weight matrix as the graph takes it: float32 row-major, or kept quantized (block-affine codes). */
export type Matrix = Float32Array | BlockAffine;

export function isQuantized(m: Matrix): m is BlockAffine {
  return !(m instanceof Float32Array);
}

/** A contiguous range [start, start + count). */
export interface Span {
  start: number;
  count: number;
}

/** What rank `rank` of `worldSize` holds. With world size 1 every span is the whole dimension. */
export interface ParallelPlan {
  rank: number;
  worldSize: number;
  /** Query heads of this rank. */
  heads: Span;
  /** KV heads of this rank (one replicated head when worldSize > numKvHeads). */
  kvHeads: Span;
  /** Columns of the FFN (gate/up rows, down columns). */
  ffn: Span;
  /** Columns of every expert's FFN (MoE models): each rank holds this slice of all experts (docs/moe.md). */
  expertFfn: Span;
  /** Rows of the embedding and of the LM head (both vocabulary-parallel). */
  vocab: Span;
}

/** Near-equal contiguous split of n over `parts` (the first n % parts get one more). */
export function evenSpan(n: number, parts: number, index: number): Span {
  const base = Math.floor(n / parts);
  const extra = n % parts;
  return { start: index * base + Math.min(index, extra), count: base + (index < extra ? 1 : 0) };
}

export function parallelPlan(c: ModelConfig, rank: number, worldSize: number): ParallelPlan {
  const N = worldSize;
  if (!(Number.isInteger(N) && N >= 1 && rank >= 0 && rank < N)) throw new ParallelPlanError(`rank ${rank} is not in 0..${N - 1}`);
  if (c.numHeads % N !== 0) throw new ParallelPlanError(`num_attention_heads ${c.numHeads} is not divisible by the ${N} shards`);
  const headsPer = c.numHeads / N;
  let kvHeads: Span;
  if (c.numKvHeads % N === 0) kvHeads = { start: (rank * c.numKvHeads) / N, count: c.numKvHeads / N };
  else if (N % c.numKvHeads === 0) kvHeads = { start: Math.floor((rank * c.numKvHeads) / N), count: 1 };
  else throw new ParallelPlanError(`num_key_value_heads ${c.numKvHeads} and the ${N} shards: one must divide the other`);
  if (c.intermediateSize < N || c.vocabSize < N) throw new ParallelPlanError(`the model is too small for ${N} shards`);
  const expertFfn = c.moe ? evenSpan(c.moe.expertIntermediateSize, N, rank) : { start: 0, count: 0 };
  if (c.moe && c.moe.expertIntermediateSize < N) throw new ParallelPlanError(`the experts are too small for ${N} shards`);
  return {
    rank,
    worldSize: N,
    heads: { start: rank * headsPer, count: headsPer },
    kvHeads,
    ffn: evenSpan(c.intermediateSize, N, rank),
    expertFfn,
    vocab: evenSpan(c.vocabSize, N, rank),
  };
}

/** Rows [start, start+count) of a row-major matrix with `rowLength` columns (a copy, so the whole tensor can be freed). */
function sliceRows(data: Float32Array, rowLength: number, span: Span, whole: number): Float32Array {
  if (span.start === 0 && span.count === whole) return data;
  return data.slice(span.start * rowLength, (span.start + span.count) * rowLength);
}

/** Columns [start, start+count) of a [rows, cols] matrix. */
function sliceColumns(data: Float32Array, cols: number, span: Span): Float32Array {
  if (span.start === 0 && span.count === cols) return data;
  const rows = data.length / cols;
  const out = new Float32Array(rows * span.count);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * cols + span.start, r * cols + span.start + span.count), r * span.count);
  return out;
}

/**
 * The tensors of one rank. Each whole tensor is read (lazily, one at a time) and only its slice is
 * kept, so the weights the rank writes into its graph — and the session holds — are ~1/N. Matrices
 * the file stores quantized stay quantized (sliced on block boundaries); norms and biases are float.
 */
export class ShardWeights {
  readonly config: ModelConfig;
  constructor(
    readonly model: LoadedModel,
    readonly plan: ParallelPlan,
  ) {
    this.config = model.config;
  }

  #t(name: string): Float32Array {
    return this.model.tensor(name).data;
  }

  /** A [rows, cols] matrix, quantized when the model keeps it so. */
  #m(name: string): Matrix {
    return this.model.quantized?.(name) ?? this.#t(name);
  }

  #rows(name: string, rowLength: number, span: Span, whole: number): Matrix {
    const m = this.#m(name);
    return isQuantized(m) ? sliceBlockAffineRows(m, span.start, span.count) : sliceRows(m, rowLength, span, whole);
  }

  #columns(name: string, cols: number, span: Span): Matrix {
    const m = this.#m(name);
    return isQuantized(m) ? sliceBlockAffineColumns(m, span.start, span.count, name) : sliceColumns(m, cols, span);
  }

  /** Q, K, V rows of this rank's heads (and their biases when the model has them). */
  qkv(layer: number): { q: Matrix; k: Matrix; v: Matrix; bias: { q: Float32Array; k: Float32Array; v: Float32Array } | null } {
    const { headDim: D, hiddenSize: H, numHeads, numKvHeads } = this.config;
    const p = `model.layers.${layer}.self_attn.`;
    const heads = (w: string, span: Span, total: number) => this.#rows(p + w, H, { start: span.start * D, count: span.count * D }, total * D);
    const biases = (w: string, span: Span, total: number) => sliceRows(this.#t(p + w), D, span, total);
    const weight = {
      q: heads('q_proj.weight', this.plan.heads, numHeads),
      k: heads('k_proj.weight', this.plan.kvHeads, numKvHeads),
      v: heads('v_proj.weight', this.plan.kvHeads, numKvHeads),
    };
    if (!this.config.attentionBias) return { ...weight, bias: null };
    return {
      ...weight,
      bias: {
        q: biases('q_proj.bias', this.plan.heads, numHeads),
        k: biases('k_proj.bias', this.plan.kvHeads, numKvHeads),
        v: biases('v_proj.bias', this.plan.kvHeads, numKvHeads),
      },
    };
  }

  /** o_proj columns of this rank's heads: [H, heads·D]. */
  oProj(layer: number): Matrix {
    const { headDim: D, numHeads } = this.config;
    const span = { start: this.plan.heads.start * D, count: this.plan.heads.count * D };
    return this.#columns(`model.layers.${layer}.self_attn.o_proj.weight`, numHeads * D, span);
  }

  /** gate and up rows of this rank's FFN span: each [ffn, H]. */
  gateUp(layer: number): { gate: Matrix; up: Matrix } {
    const { hiddenSize: H, intermediateSize: F } = this.config;
    const p = `model.layers.${layer}.mlp.`;
    return { gate: this.#rows(p + 'gate_proj.weight', H, this.plan.ffn, F), up: this.#rows(p + 'up_proj.weight', H, this.plan.ffn, F) };
  }

  /** down_proj columns of this rank's FFN span: [H, ffn]. */
  down(layer: number): Matrix {
    return this.#columns(`model.layers.${layer}.mlp.down_proj.weight`, this.config.intermediateSize, this.plan.ffn);
  }

  /** A sparse layer's router [E, H], float and whole on every rank (each rank routes every token itself). */
  router(layer: number): Float32Array {
    return this.#t(moeTensorNames(this.config, layer).router);
  }

  /** Expert e's gate and up rows of this rank's expert-FFN span: each [span, H]. */
  expertGateUp(layer: number, expert: number): { gate: Matrix; up: Matrix } {
    const { hiddenSize: H, moe } = this.config;
    const n = moeTensorNames(this.config, layer);
    const F = moe!.expertIntermediateSize;
    return { gate: this.#rows(n.gate(expert), H, this.plan.expertFfn, F), up: this.#rows(n.up(expert), H, this.plan.expertFfn, F) };
  }

  /** Expert e's down_proj columns of this rank's expert-FFN span: [H, span]. */
  expertDown(layer: number, expert: number): Matrix {
    return this.#columns(moeTensorNames(this.config, layer).down(expert), this.config.moe!.expertIntermediateSize, this.plan.expertFfn);
  }

  finalNorm(): Float32Array {
    return this.#t('model.norm.weight');
  }
  /** Embedding rows of this rank's vocabulary span: [vocab.count, H] (vocabulary-parallel; whole at world size 1). */
  embed(): Matrix {
    return this.#rows('model.embed_tokens.weight', this.config.hiddenSize, this.plan.vocab, this.config.vocabSize);
  }
  /** LM head rows of this rank's vocabulary span: [vocab.count, H]. */
  lmHead(): Matrix {
    const name = this.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    return this.#rows(name, this.config.hiddenSize, this.plan.vocab, this.config.vocabSize);
  }
}
