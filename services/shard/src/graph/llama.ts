// @module Llama/Mistral/Qwen2 decoder blocks over a paged KV pool in standard ONNX ops, and the whole-model step graph.
import type { LoadedModel, ModelConfig } from '@tessera/model-files';
import { parallelPlan, ShardWeights } from '../weights/shard-weights.ts';
import type { OnnxGraphBuilder } from './onnx-builder.ts';
import { ropeTables } from './rope.ts';

/** Names of the step graph's inputs and outputs, shared with the runner that feeds it. */
export const STEP_IO = {
  inputIds: 'input_ids',
  positionIds: 'position_ids',
  attentionBias: 'attention_bias',
  blockTable: 'block_table',
  logitRows: 'logit_rows',
  logits: 'logits',
  /** log Σ exp(logits) per row (world size 1): sampling then needs no 32k-wide exp pass in JS. */
  logitsLse: 'logits_lse',
  kCache: (l: number) => `k_cache_${l}`,
  vCache: (l: number) => `v_cache_${l}`,
  newK: (l: number) => `new_k_${l}`,
  newV: (l: number) => `new_v_${l}`,
} as const;

export interface BuildProgress {
  (done: number, total: number): void;
}

export function concatRows(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The RMSNorm pattern onnxruntime fuses into SimplifiedLayerNormalization. */
function rmsNorm(b: OnnxGraphBuilder, x: string, weight: string, eps: string, two: string): string {
  const meanSquare = b.op('ReduceMean', [b.op('Pow', [x, two])], { axes: [-1], keepdims: 1 });
  const rms = b.op('Sqrt', [b.op('Add', [meanSquare, eps])]);
  return b.op('Mul', [b.op('Div', [x, rms]), weight]);
}

/** rotate_half RoPE with tables [cos, cos] and [-sin, sin]. */
function rope(b: OnnxGraphBuilder, x: string, cos: string, sin: string, halfSplit: string, output?: string): string {
  const [x1, x2] = b.node('Split', [x, halfSplit], { axis: -1 }, 2) as [string, string];
  const rotated = b.op('Concat', [x2, x1], { axis: -1 });
  return b.op('Add', [b.op('Mul', [x, cos]), b.op('Mul', [rotated, sin])], {}, output);
}

/** Shape vectors, the attention mask and RoPE tables of one step, built once per graph. */
export interface StepPrelude {
  w: ShardWeights;
  /** Local (this rank's) heads and KV heads. */
  nH: number;
  kvH: number;
  eps: string;
  two: string;
  names: Record<'halfSplit' | 'qShape' | 'kvShape' | 'attnOutShape' | 'pastShape' | 'qTShape' | 'flatHeads' | 'bias' | 'pastNewSplit' | 'cosQ' | 'sinQ' | 'cosK' | 'sinK', string>;
}

/** Declares the per-step inputs (ids only when `withIds`) and the K/V pools of `layers`. */
export function declareStepInputs(b: OnnxGraphBuilder, w: ShardWeights, layers: number[], withIds: boolean): void {
  const io = STEP_IO;
  const D = w.config.headDim;
  if (withIds) b.input(io.inputIds, 'int64', ['batch', 'seq']);
  b.input(io.positionIds, 'int64', ['batch', 'seq']);
  b.input(io.attentionBias, 'float32', ['batch', 'seq', 'total']);
  b.input(io.blockTable, 'int64', ['batch', 'blocks']);
  for (const l of layers) {
    b.input(io.kCache(l), 'float32', [w.plan.kvHeads.count, 'num_blocks', 'block_size', D]);
    b.input(io.vCache(l), 'float32', [w.plan.kvHeads.count, 'num_blocks', 'block_size', D]);
  }
}

/** What the MLP and the head need (no step inputs): the weights and the RMSNorm constants. */
export type NormConstants = Pick<StepPrelude, 'w' | 'eps' | 'two'>;

export function normConstants(b: OnnxGraphBuilder, w: ShardWeights): NormConstants {
  return { w, eps: b.constant('float32', [w.config.rmsNormEps], []), two: b.constant('float32', [2], []) };
}

/** Shared constants; `poolLayer` is a layer whose pool input is declared (its shape gives the block size). */
export function stepPrelude(b: OnnxGraphBuilder, w: ShardWeights, poolLayer: number): StepPrelude {
  const c: ModelConfig = w.config;
  const D = c.headDim;
  const nH = w.plan.heads.count;
  const kvH = w.plan.kvHeads.count;
  if (c.numHeads % c.numKvHeads !== 0) throw new Error(`num_attention_heads ${c.numHeads} is not a multiple of num_key_value_heads ${c.numKvHeads}`);
  if (D % 2 !== 0) throw new Error(`head_dim ${D} must be even for RoPE`);
  const G = nH / kvH;
  const io = STEP_IO;
  // Shapes come from position_ids (same [B,S] as input_ids), which every segment receives.
  const batchSeq = b.op('Shape', [io.positionIds]);
  const seq = b.op('Shape', [io.positionIds], { start: 1, end: 2 });
  // attention_bias [B,S,T] → [1,B,G·S,T]: the same mask for every query head of a KV group.
  const biasGroups = b.op('Expand', [b.op('Unsqueeze', [io.attentionBias, b.constant('int64', [1])]), b.constant('int64', [1, G, 1, 1])]);
  const biasShape = b.op('Concat', [b.constant('int64', [1]), b.op('Shape', [io.positionIds], { start: 0, end: 1 }), b.constant('int64', [-1]), b.op('Shape', [io.attentionBias], { start: 2, end: 3 })], { axis: 0 });
  // Split of the attention weights into past (P = M·blockSize) and new (S) columns.
  const past = b.op('Mul', [b.op('Shape', [io.blockTable], { start: 1, end: 2 }), b.op('Shape', [io.kCache(poolLayer)], { start: 2, end: 3 })]);
  // RoPE tables gathered by position: [B,S,D], broadcast over heads (one copy in the data file for all segments).
  const { cos, sinSigned } = ropeTables(c, c.maxPositionEmbeddings);
  const cosBSD = b.op('Gather', [b.weight('rope.cos', cos, [c.maxPositionEmbeddings, D], 'rope.cos'), io.positionIds], { axis: 0 });
  const sinBSD = b.op('Gather', [b.weight('rope.sin', sinSigned, [c.maxPositionEmbeddings, D], 'rope.sin'), io.positionIds], { axis: 0 });
  const unsqueeze23 = b.constant('int64', [2, 3]);
  const unsqueeze2 = b.constant('int64', [2]);
  return {
    ...normConstants(b, w),
    nH,
    kvH,
    names: {
      halfSplit: b.constant('int64', [D / 2, D / 2]),
      qShape: b.op('Concat', [batchSeq, b.constant('int64', [kvH, G, D])], { axis: 0 }),
      kvShape: b.op('Concat', [batchSeq, b.constant('int64', [kvH, D])], { axis: 0 }),
      attnOutShape: b.op('Concat', [b.constant('int64', [0, 0, G]), seq, b.constant('int64', [D])], { axis: 0 }),
      pastShape: b.constant('int64', [0, 0, -1, D]),
      qTShape: b.constant('int64', [0, 0, D, -1]),
      flatHeads: b.constant('int64', [-1, nH * D]),
      bias: b.op('Reshape', [biasGroups, biasShape]),
      pastNewSplit: b.op('Concat', [past, seq], { axis: 0 }),
      cosQ: b.op('Unsqueeze', [cosBSD, unsqueeze23]),
      sinQ: b.op('Unsqueeze', [sinBSD, unsqueeze23]),
      cosK: b.op('Unsqueeze', [cosBSD, unsqueeze2]),
      sinK: b.op('Unsqueeze', [sinBSD, unsqueeze2]),
    },
  };
}

/**
 * Token embeddings [B·S, H]. Sharded (world size > 1) the table holds this rank's vocabulary span
 * only: ids outside it give zero rows, so the sum over ranks is the embedding (one all-reduce).
 */
export function embedTokens(b: OnnxGraphBuilder, w: ShardWeights): { x: string; table: string } {
  const c = w.config;
  const { start, count } = w.plan.vocab;
  // Shared by key so a tied LM head (the same rows) is stored once in the rank's data file.
  const table = b.weight('embed_tokens', w.embed(), [count, c.hiddenSize], c.tieWordEmbeddings ? 'vocab_rows' : undefined);
  const flat = b.constant('int64', [-1, c.hiddenSize]);
  if (count === c.vocabSize) return { table, x: b.op('Reshape', [b.op('Gather', [table, STEP_IO.inputIds], { axis: 0 }), flat]) };
  const local = b.op('Sub', [STEP_IO.inputIds, b.constant('int64', [start], [])]);
  const inSpan = b.op('And', [b.op('GreaterOrEqual', [local, b.constant('int64', [0], [])]), b.op('Less', [local, b.constant('int64', [count], [])])]);
  const rows = b.op('Gather', [table, b.op('Where', [inSpan, local, b.constant('int64', [0], [])])], { axis: 0 });
  const mask = b.op('Cast', [b.op('Unsqueeze', [inSpan, b.constant('int64', [-1])])], { to: 1 /* FLOAT */ });
  return { table, x: b.op('Reshape', [b.op('Mul', [rows, mask]), flat]) };
}

/**
 * Attention of layer l over this rank's heads: returns o_proj's output [B·S, H] (a partial sum when
 * sharded) and declares new_k_l/new_v_l [kvH,B,S,D] (post-RoPE K) as outputs.
 */
export function attentionBlock(b: OnnxGraphBuilder, p: StepPrelude, l: number, x: string): string {
  const { w, nH, kvH, names: n } = p;
  const { hiddenSize: H, headDim: D } = w.config;
  const io = STEP_IO;
  // Q is pre-scaled by 1/sqrt(D) (RoPE is linear, so scaling before it is exact).
  const qScale = 1 / Math.sqrt(D);
  const t = w.qkv(l);
  const wQkv = b.weight(`l${l}.qkv`, concatRows([t.q.map((v) => v * qScale), t.k, t.v]), [(nH + 2 * kvH) * D, H]);
  const qkvInputs = [rmsNorm(b, x, b.weight(`l${l}.input_norm`, w.inputNorm(l), [H]), p.eps, p.two), wQkv];
  if (t.bias) qkvInputs.push(b.weight(`l${l}.qkv_bias`, concatRows([t.bias.q.map((v) => v * qScale), t.bias.k, t.bias.v]), [(nH + 2 * kvH) * D]));
  const qkv = b.op('Gemm', qkvInputs, { transB: 1 });
  const [qFlat, kFlat, vFlat] = b.node('Split', [qkv, b.constant('int64', [nH * D, kvH * D, kvH * D])], { axis: 1 }, 3) as [string, string, string];

  // Attention without repeating KV heads, in [kvH, B, ·, ·] layout so the pooled past needs no transpose:
  // scores are computed transposed (K·Qᵀ, Q is small at decode) for the past and the new tokens apart,
  // so the gathered past K/V are never concatenated with the new ones either.
  const qRot = rope(b, b.op('Reshape', [qFlat, n.qShape]), n.cosQ, n.sinQ, n.halfSplit); // [B,S,kvH,G,D]
  const qT = b.op('Reshape', [b.op('Transpose', [qRot], { perm: [2, 0, 4, 3, 1] }), n.qTShape]); // [kvH,B,D,G·S]
  const kRot = rope(b, b.op('Reshape', [kFlat, n.kvShape]), n.cosK, n.sinK, n.halfSplit); // [B,S,kvH,D]
  const kNew = b.op('Transpose', [kRot], { perm: [2, 0, 1, 3] }, io.newK(l)); // [kvH,B,S,D]
  const vNew = b.op('Transpose', [b.op('Reshape', [vFlat, n.kvShape])], { perm: [2, 0, 1, 3] }, io.newV(l));
  const kPast = b.op('Reshape', [b.op('Gather', [io.kCache(l), io.blockTable], { axis: 1 }), n.pastShape]); // [kvH,B,P,D]
  const vPast = b.op('Reshape', [b.op('Gather', [io.vCache(l), io.blockTable], { axis: 1 }), n.pastShape]);
  const scoresT = b.op('Concat', [b.op('MatMul', [kPast, qT]), b.op('MatMul', [kNew, qT])], { axis: 2 }); // [kvH,B,T,G·S]
  const scores = b.op('Add', [b.op('Transpose', [scoresT], { perm: [0, 1, 3, 2] }), n.bias]); // [kvH,B,G·S,T]
  const [pPast, pNew] = b.node('Split', [b.op('Softmax', [scores], { axis: -1 }), n.pastNewSplit], { axis: 3 }, 2) as [string, string];
  const attn = b.op('Add', [b.op('MatMul', [pPast, vPast]), b.op('MatMul', [pNew, vNew])]); // [kvH,B,G·S,D]
  const attnTokens = b.op('Transpose', [b.op('Reshape', [attn, n.attnOutShape])], { perm: [1, 3, 0, 2, 4] }); // [B,S,kvH,G,D]
  const wO = b.weight(`l${l}.o_proj`, w.oProj(l), [H, nH * D]);
  b.output(io.newK(l), 'float32', [kvH, 'batch', 'seq', D]);
  b.output(io.newV(l), 'float32', [kvH, 'batch', 'seq', D]);
  return b.op('Gemm', [b.op('Reshape', [attnTokens, n.flatHeads]), wO], { transB: 1 });
}

/** SwiGLU MLP of layer l over this rank's FFN columns: down_proj's output [B·S, H] (partial when sharded). */
export function mlpBlock(b: OnnxGraphBuilder, p: NormConstants, l: number, x: string): string {
  const { w } = p;
  const H = w.config.hiddenSize;
  const F = w.plan.ffn.count;
  const xn = rmsNorm(b, x, b.weight(`l${l}.post_norm`, w.postNorm(l), [H]), p.eps, p.two);
  const { gate: g, up: u } = w.gateUp(l);
  const wGateUp = b.weight(`l${l}.gate_up`, concatRows([g, u]), [2 * F, H]);
  const [gate, up] = b.node('Split', [b.op('Gemm', [xn, wGateUp], { transB: 1 }), b.constant('int64', [F, F])], { axis: 1 }, 2) as [string, string];
  const act = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate])]), up]);
  return b.op('Gemm', [act, b.weight(`l${l}.down_proj`, w.down(l), [H, F])], { transB: 1 });
}

/** Final norm of the rows in logit_rows and this rank's LM head rows → `logits` [R, vocab span]. */
export function headBlock(b: OnnxGraphBuilder, p: NormConstants, x: string, tiedTable: string | null): void {
  const { w } = p;
  const c = w.config;
  b.input(STEP_IO.logitRows, 'int64', ['rows']);
  const rows = b.op('Gather', [x, STEP_IO.logitRows], { axis: 0 });
  const normed = rmsNorm(b, rows, b.weight('final_norm', w.finalNorm(), [c.hiddenSize]), p.eps, p.two);
  const lmHead = tiedTable ?? b.weight('lm_head', w.lmHead(), [w.plan.vocab.count, c.hiddenSize], c.tieWordEmbeddings ? 'vocab_rows' : undefined);
  b.op('Gemm', [normed, lmHead], { transB: 1 }, STEP_IO.logits);
  b.output(STEP_IO.logits, 'float32', ['rows', w.plan.vocab.count]);
}

/**
 * Builds the step graph for the whole model (world size 1). Inputs: input_ids, position_ids [B,S];
 * attention_bias [B,S,P+S]; block_table [B,M] (P = M·blockSize); logit_rows [R]; k/v_cache_l
 * [kvH, numBlocks, blockSize, D]. Outputs: new_k_l/new_v_l [kvH,B,S,D] (post-RoPE K); logits [R,V].
 */
export function buildLlamaStepGraph(b: OnnxGraphBuilder, model: LoadedModel, progress?: BuildProgress): void {
  const w = new ShardWeights(model, parallelPlan(model.config, 0, 1));
  const L = model.config.numLayers;
  const total = L + 2;
  const layers = Array.from({ length: L }, (_, l) => l);
  declareStepInputs(b, w, layers, true);
  const p = stepPrelude(b, w, 0);
  const embed = embedTokens(b, w);
  let x = embed.x;
  progress?.(1, total);
  for (const l of layers) {
    x = b.op('Add', [x, attentionBlock(b, p, l, x)]);
    x = b.op('Add', [x, mlpBlock(b, p, l, x)]);
    progress?.(l + 2, total);
  }
  headBlock(b, p, x, model.config.tieWordEmbeddings ? embed.table : null);
  b.op('ReduceLogSumExp', [STEP_IO.logits], { axes: [1], keepdims: 0 }, STEP_IO.logitsLse);
  b.output(STEP_IO.logitsLse, 'float32', ['rows']);
  progress?.(total, total);
}
