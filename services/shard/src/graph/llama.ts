// @module The one-step decoder graph for Llama/Mistral/Qwen2 over a paged KV pool, in standard ONNX ops.
import type { LoadedModel, ModelConfig } from '@tessera/model-files';
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
  kCache: (l: number) => `k_cache_${l}`,
  vCache: (l: number) => `v_cache_${l}`,
  newK: (l: number) => `new_k_${l}`,
  newV: (l: number) => `new_v_${l}`,
} as const;

export interface BuildProgress {
  (done: number, total: number): void;
}

function concatRows(parts: Float32Array[]): Float32Array {
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

/**
 * Builds the step graph for the whole model (world size 1). Inputs: input_ids, position_ids [B,S];
 * attention_bias [B,S,P+S]; block_table [B,M] (P = M·blockSize); logit_rows [R]; k/v_cache_l
 * [kvH, numBlocks, blockSize, D]. Outputs: logits [R,V]; new_k_l/new_v_l [kvH,B,S,D] (post-RoPE K).
 */
export function buildLlamaStepGraph(b: OnnxGraphBuilder, model: LoadedModel, progress?: BuildProgress): void {
  const c: ModelConfig = model.config;
  const { hiddenSize: H, numHeads: nH, numKvHeads: kvH, headDim: D, numLayers: L, intermediateSize: F } = c;
  if (nH % kvH !== 0) throw new Error(`num_attention_heads ${nH} is not a multiple of num_key_value_heads ${kvH}`);
  if (D % 2 !== 0) throw new Error(`head_dim ${D} must be even for RoPE`);
  const G = nH / kvH;
  const io = STEP_IO;
  const total = L + 2;

  b.input(io.inputIds, 'int64', ['batch', 'seq']);
  b.input(io.positionIds, 'int64', ['batch', 'seq']);
  b.input(io.attentionBias, 'float32', ['batch', 'seq', 'total']);
  b.input(io.blockTable, 'int64', ['batch', 'blocks']);
  b.input(io.logitRows, 'int64', ['rows']);
  for (let l = 0; l < L; l++) {
    b.input(io.kCache(l), 'float32', [kvH, 'num_blocks', 'block_size', D]);
    b.input(io.vCache(l), 'float32', [kvH, 'num_blocks', 'block_size', D]);
  }

  // Shared constants and per-step shape vectors (computed once, used by every layer).
  const eps = b.constant('float32', [c.rmsNormEps], []);
  const two = b.constant('float32', [2], []);
  const halfSplit = b.constant('int64', [D / 2, D / 2]);
  const batchSeq = b.op('Shape', [io.inputIds]);
  const seq = b.op('Shape', [io.inputIds], { start: 1, end: 2 });
  const qShape = b.op('Concat', [batchSeq, b.constant('int64', [kvH, G, D])], { axis: 0 });
  const kvShape = b.op('Concat', [batchSeq, b.constant('int64', [kvH, D])], { axis: 0 });
  const attnOutShape = b.op('Concat', [b.constant('int64', [0, 0, G]), seq, b.constant('int64', [D])], { axis: 0 });
  const pastShape = b.constant('int64', [0, 0, -1, D]);
  const qTShape = b.constant('int64', [0, 0, D, -1]);
  const flatHidden = b.constant('int64', [-1, H]);
  const flatHeads = b.constant('int64', [-1, nH * D]);
  const unsqueeze23 = b.constant('int64', [2, 3]);
  const unsqueeze2 = b.constant('int64', [2]);

  // attention_bias [B,S,T] → [1,B,G·S,T]: the same mask for every query head of a KV group.
  const biasGroups = b.op('Expand', [b.op('Unsqueeze', [io.attentionBias, b.constant('int64', [1])]), b.constant('int64', [1, G, 1, 1])]);
  const biasShape = b.op('Concat', [
    b.constant('int64', [1]),
    b.op('Shape', [io.inputIds], { start: 0, end: 1 }),
    b.constant('int64', [-1]),
    b.op('Shape', [io.attentionBias], { start: 2, end: 3 }),
  ], { axis: 0 });
  const bias = b.op('Reshape', [biasGroups, biasShape]);
  // Split of the attention weights into past (P = M·blockSize) and new (S) columns.
  const past = b.op('Mul', [b.op('Shape', [io.blockTable], { start: 1, end: 2 }), b.op('Shape', [io.kCache(0)], { start: 2, end: 3 })]);
  const pastNewSplit = b.op('Concat', [past, seq], { axis: 0 });

  // RoPE tables gathered by position: [B,S,D], broadcast over heads.
  const { cos, sinSigned } = ropeTables(c, c.maxPositionEmbeddings);
  const cosBSD = b.op('Gather', [b.weight('rope.cos', cos, [c.maxPositionEmbeddings, D]), io.positionIds], { axis: 0 });
  const sinBSD = b.op('Gather', [b.weight('rope.sin', sinSigned, [c.maxPositionEmbeddings, D]), io.positionIds], { axis: 0 });
  const cosQ = b.op('Unsqueeze', [cosBSD, unsqueeze23]);
  const sinQ = b.op('Unsqueeze', [sinBSD, unsqueeze23]);
  const cosK = b.op('Unsqueeze', [cosBSD, unsqueeze2]);
  const sinK = b.op('Unsqueeze', [sinBSD, unsqueeze2]);

  const embed = b.weight('embed_tokens', model.tensor('model.embed_tokens.weight').data, [c.vocabSize, H]);
  let x = b.op('Reshape', [b.op('Gather', [embed, io.inputIds], { axis: 0 }), flatHidden]);
  progress?.(1, total);

  // Q is pre-scaled by 1/sqrt(D) (RoPE is linear, so scaling before it is exact).
  const qScale = 1 / Math.sqrt(D);
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    const t = (name: string) => model.tensor(p + name).data;
    const q = t('self_attn.q_proj.weight').map((v) => v * qScale);
    const wQkv = b.weight(`l${l}.qkv`, concatRows([q, t('self_attn.k_proj.weight'), t('self_attn.v_proj.weight')]), [(nH + 2 * kvH) * D, H]);
    const qkvInputs = [rmsNorm(b, x, b.weight(`l${l}.input_norm`, t('input_layernorm.weight'), [H]), eps, two), wQkv];
    if (c.attentionBias) {
      const bq = t('self_attn.q_proj.bias').map((v) => v * qScale);
      qkvInputs.push(b.weight(`l${l}.qkv_bias`, concatRows([bq, t('self_attn.k_proj.bias'), t('self_attn.v_proj.bias')]), [(nH + 2 * kvH) * D]));
    }
    const qkv = b.op('Gemm', qkvInputs, { transB: 1 });
    const [qFlat, kFlat, vFlat] = b.node('Split', [qkv, b.constant('int64', [nH * D, kvH * D, kvH * D])], { axis: 1 }, 3) as [string, string, string];

    // Attention without repeating KV heads, in [kvH, B, ·, ·] layout so the pooled past needs no transpose:
    // scores are computed transposed (K·Qᵀ, Q is small at decode) for the past and the new tokens apart,
    // so the gathered past K/V are never concatenated with the new ones either.
    const qRot = rope(b, b.op('Reshape', [qFlat, qShape]), cosQ, sinQ, halfSplit); // [B,S,kvH,G,D]
    const qT = b.op('Reshape', [b.op('Transpose', [qRot], { perm: [2, 0, 4, 3, 1] }), qTShape]); // [kvH,B,D,G·S]
    const kRot = rope(b, b.op('Reshape', [kFlat, kvShape]), cosK, sinK, halfSplit); // [B,S,kvH,D]
    const kNew = b.op('Transpose', [kRot], { perm: [2, 0, 1, 3] }, io.newK(l)); // [kvH,B,S,D]
    const vNew = b.op('Transpose', [b.op('Reshape', [vFlat, kvShape])], { perm: [2, 0, 1, 3] }, io.newV(l));
    const kPast = b.op('Reshape', [b.op('Gather', [io.kCache(l), io.blockTable], { axis: 1 }), pastShape]); // [kvH,B,P,D]
    const vPast = b.op('Reshape', [b.op('Gather', [io.vCache(l), io.blockTable], { axis: 1 }), pastShape]);
    const scoresT = b.op('Concat', [b.op('MatMul', [kPast, qT]), b.op('MatMul', [kNew, qT])], { axis: 2 }); // [kvH,B,T,G·S]
    const scores = b.op('Add', [b.op('Transpose', [scoresT], { perm: [0, 1, 3, 2] }), bias]); // [kvH,B,G·S,T]
    const [pPast, pNew] = b.node('Split', [b.op('Softmax', [scores], { axis: -1 }), pastNewSplit], { axis: 3 }, 2) as [string, string];
    const attn = b.op('Add', [b.op('MatMul', [pPast, vPast]), b.op('MatMul', [pNew, vNew])]); // [kvH,B,G·S,D]
    const attnTokens = b.op('Transpose', [b.op('Reshape', [attn, attnOutShape])], { perm: [1, 3, 0, 2, 4] }); // [B,S,kvH,G,D]
    const wO = b.weight(`l${l}.o_proj`, t('self_attn.o_proj.weight'), [H, nH * D]);
    x = b.op('Add', [x, b.op('Gemm', [b.op('Reshape', [attnTokens, flatHeads]), wO], { transB: 1 })]);

    const xn = rmsNorm(b, x, b.weight(`l${l}.post_norm`, t('post_attention_layernorm.weight'), [H]), eps, two);
    const wGateUp = b.weight(`l${l}.gate_up`, concatRows([t('mlp.gate_proj.weight'), t('mlp.up_proj.weight')]), [2 * F, H]);
    const [gate, up] = b.node('Split', [b.op('Gemm', [xn, wGateUp], { transB: 1 }), b.constant('int64', [F, F])], { axis: 1 }, 2) as [string, string];
    const act = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate])]), up]);
    const wDown = b.weight(`l${l}.down_proj`, t('mlp.down_proj.weight'), [H, F]);
    x = b.op('Add', [x, b.op('Gemm', [act, wDown], { transB: 1 })]);
    progress?.(l + 2, total);
  }

  const rows = b.op('Gather', [x, io.logitRows], { axis: 0 });
  const normed = rmsNorm(b, rows, b.weight('final_norm', model.tensor('model.norm.weight').data, [H]), eps, two);
  const lmHead = c.tieWordEmbeddings ? embed : b.weight('lm_head', model.tensor('lm_head.weight').data, [c.vocabSize, H]);
  b.op('Gemm', [normed, lmHead], { transB: 1 }, io.logits);
  progress?.(total, total);

  b.output(io.logits, 'float32', ['rows', c.vocabSize]);
  for (let l = 0; l < L; l++) {
    b.output(io.newK(l), 'float32', [kvH, 'batch', 'seq', D]);
    b.output(io.newV(l), 'float32', [kvH, 'batch', 'seq', D]);
  }
}
