// @module Llama-family decoder blocks (families' additions in families/family-blocks.ts) over a paged KV pool in standard ONNX ops, and the whole-model step graph.
import { isSparseLayer, type LoadedModel, type ModelConfig, scaleBlockAffine } from '@tessera/model-files';
import { isQuantized, parallelPlan, ShardWeights } from '../weights/shard-weights.ts';
import { type EmbeddingTable, gatherRows, LinearContext, linear, type QuantAccuracy, quantizedInitializers, quantizedMatMul } from './linear.ts';
import { moeBlock } from './moe.ts';
import { type OnnxGraphBuilder, onnxTypeOf } from './onnx-builder.ts';
import { ropeCaches, rotaryDimOf } from './rope.ts';
import { type ComputeType, type KvLayout, STEP_IO } from './step-io.ts';
import {
  addResidualAndBlockInput,
  attentionScale,
  blockInput,
  blockOutput,
  gatedActivation,
  isSlidingLayer,
  layerUsesRope,
  normQk,
  normWeight,
  projectsEveryHead,
  slidingWindowBias,
  softcap,
} from './families/family-blocks.ts';

// Moved to step-io.ts (the runner's contract with every graph); re-exported for the builders that import them from here.
export { type ComputeType, type KvLayout, STEP_IO };

export interface StepGraphOptions {
  dtype: ComputeType;
  kvLayout: KvLayout;
  /** Activations of quantized matmuls: int8 (default, fast) or float32 (linear.ts). */
  quantAccuracy?: QuantAccuracy;
}

export const DEFAULT_GRAPH_OPTIONS: StepGraphOptions = { dtype: 'float32', kvLayout: 'host' };

export type BuildProgress = (done: number, total: number) => void;

const FLOAT = onnxTypeOf('float32');

/**
 * RMSNorm as onnxruntime's SimplifiedLayerNormalization (what its optimizer fuses the x / sqrt(mean(x²) + ε)
 * pattern into on the CPU anyway): one node on every provider instead of five, and float16 inputs are
 * normalised in float32 inside it (stash_type 1).
 */
function rmsNorm(b: OnnxGraphBuilder, p: NormConstants, x: string, weight: string): string {
  return b.op('SimplifiedLayerNormalization', [x, weight], { axis: -1, epsilon: { float: p.w.config.rmsNormEps }, stash_type: 1 });
}

/** rotate_half RoPE of x [B·S, heads·D] at position_ids, as onnxruntime's RotaryEmbedding (one node on every provider). */
function rope(b: OnnxGraphBuilder, p: StepPrelude, x: string, heads: number, local: boolean): string {
  const n = p.names;
  // Gemma 3's sliding layers rotate with their own base (rope_local_base_freq).
  const [cosCache, sinCache] = local && n.localCos ? [n.localCos, n.localSin] : [n.cosCache, n.sinCache];
  // Partial rotary (Phi-4-mini): the op rotates the leading rotary_embedding_dim dims of each head and passes the rest.
  const attributes: Record<string, number> = { num_heads: heads, interleaved: 0 };
  if (p.w.config.rotaryDim !== undefined) attributes['rotary_embedding_dim'] = p.w.config.rotaryDim;
  return b.op('com.microsoft.RotaryEmbedding', [b.op('Reshape', [x, n.tokensByRow]), STEP_IO.positionIds, cosCache, sinCache], attributes);
}

/** Shape vectors, the attention mask and RoPE tables of one step, built once per graph. */
export interface StepPrelude extends NormConstants {
  kvLayout: KvLayout;
  /** Local (this rank's) heads and KV heads. */
  nH: number;
  kvH: number;
  names: Record<
    | 'tokensByRow'
    | 'qShape'
    | 'kvShape'
    | 'attnOutShape'
    | 'pastShape'
    | 'qTShape'
    | 'flatHeads'
    | 'tokenHeads'
    | 'slotTable'
    | 'bias'
    | 'localBias'
    | 'pastNewSplit'
    | 'cosCache'
    | 'sinCache'
    | 'localCos'
    | 'localSin',
    string
  >;
}

/** Declares the per-step inputs (ids only when `withIds`) and the K/V pools of `layers`. */
export function declareStepInputs(
  b: OnnxGraphBuilder,
  w: ShardWeights,
  layers: number[],
  withIds: boolean,
  opts: StepGraphOptions = DEFAULT_GRAPH_OPTIONS,
): void {
  const io = STEP_IO;
  const D = w.config.headDim;
  const kvH = w.plan.kvHeads.count;
  if (withIds) b.input(io.inputIds, 'int64', ['batch', 'seq']);
  b.input(io.positionIds, 'int64', ['batch', 'seq']);
  b.input(io.attentionBias, 'float32', ['batch', 'seq', 'total']);
  b.input(io.blockTable, 'int64', ['batch', 'blocks']);
  if (opts.kvLayout === 'device') {
    b.input(io.blockOffsets, 'int64', ['block_size']);
    b.input(io.writeRows, 'int64', ['writes']);
    b.input(io.writeSlots, 'int64', ['writes', 1]);
  }
  const poolDims = opts.kvLayout === 'device' ? ['num_slots', kvH, D] : [kvH, 'num_blocks', 'block_size', D];
  for (const l of layers) {
    b.input(io.kCache(l), opts.dtype, poolDims);
    b.input(io.vCache(l), opts.dtype, poolDims);
  }
}

/** What the MLP and the head need (no step inputs): the weights, the compute type and the graph's linear layers. */
export interface NormConstants {
  w: ShardWeights;
  dtype: ComputeType;
  lin: LinearContext;
}

export function normConstants(b: OnnxGraphBuilder, w: ShardWeights, dtype: ComputeType = 'float32', quantAccuracy: QuantAccuracy = 'int8'): NormConstants {
  return { w, dtype, lin: new LinearContext(b, quantAccuracy) };
}

/** Shared constants; `poolLayer` is a layer whose pool input is declared (its shape gives the block size). */
export function stepPrelude(b: OnnxGraphBuilder, w: ShardWeights, poolLayer: number, opts: StepGraphOptions = DEFAULT_GRAPH_OPTIONS): StepPrelude {
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
  const biasShape = b.op(
    'Concat',
    [
      b.constant('int64', [1]),
      b.op('Shape', [io.positionIds], { start: 0, end: 1 }),
      b.constant('int64', [-1]),
      b.op('Shape', [io.attentionBias], { start: 2, end: 3 }),
    ],
    { axis: 0 },
  );
  // Split of the attention weights into past (P = M·blockSize) and new (S) columns. The block size is
  // the pools' dim 2 in the host layout, the length of block_offsets in the device layout.
  const blockSize = opts.kvLayout === 'device' ? b.op('Shape', [io.blockOffsets]) : b.op('Shape', [io.kCache(poolLayer)], { start: 2, end: 3 });
  const past = b.op('Mul', [b.op('Shape', [io.blockTable], { start: 1, end: 2 }), blockSize]);
  // Device layout: the slot of every past position [B, P] = block · blockSize + offset, once per graph.
  const slotTable =
    opts.kvLayout === 'device'
      ? b.op('Reshape', [
          b.op('Add', [b.op('Mul', [b.op('Unsqueeze', [io.blockTable, b.constant('int64', [2])]), blockSize]), io.blockOffsets]),
          b.constant('int64', [0, -1]),
        ])
      : '';
  // RoPE caches [positions, D/2]: one copy in the data file for all segments (shared by key).
  const { cos, sin } = ropeCaches(c, c.maxPositionEmbeddings);
  const ropeDims = [c.maxPositionEmbeddings, rotaryDimOf(c) / 2];
  const local = c.localRopeTheta !== undefined ? ropeCaches({ ...c, ropeTheta: c.localRopeTheta, ropeScaling: null }, c.maxPositionEmbeddings) : null;
  // The same mask for every query head of a group, [1,B,G·S,T]; sliding layers' also hides keys beyond the window.
  const groupBias = (bias: string) =>
    b.op('Reshape', [b.op('Expand', [b.op('Unsqueeze', [bias, b.constant('int64', [1])]), b.constant('int64', [1, G, 1, 1])]), biasShape]);
  const anySliding = Array.from({ length: c.numLayers }, (_, l) => isSlidingLayer(c, l)).some(Boolean);
  return {
    ...normConstants(b, w, opts.dtype, opts.quantAccuracy),
    kvLayout: opts.kvLayout,
    nH,
    kvH,
    names: {
      tokensByRow: b.op('Concat', [batchSeq, b.constant('int64', [-1])], { axis: 0 }),
      qShape: b.op('Concat', [batchSeq, b.constant('int64', [kvH, G, D])], { axis: 0 }),
      kvShape: b.op('Concat', [batchSeq, b.constant('int64', [kvH, D])], { axis: 0 }),
      attnOutShape: b.op('Concat', [b.constant('int64', [0, 0, G]), seq, b.constant('int64', [D])], { axis: 0 }),
      // Each layout's own reshape target (a constant no node uses would be an unused initializer).
      pastShape: opts.kvLayout === 'host' ? b.constant('int64', [0, 0, -1, D]) : '',
      qTShape: b.constant('int64', [0, 0, D, -1]),
      flatHeads: b.constant('int64', [-1, nH * D]),
      tokenHeads: opts.kvLayout === 'device' ? b.constant('int64', [-1, kvH, D]) : '',
      slotTable,
      bias: groupBias(io.attentionBias),
      localBias: anySliding ? groupBias(slidingWindowBias(b, c.slidingWindow!, io.attentionBias, io.positionIds, past)) : '',
      pastNewSplit: b.op('Concat', [past, seq], { axis: 0 }),
      cosCache: b.weight('rope.cos', cos, ropeDims, 'rope.cos'),
      sinCache: b.weight('rope.sin', sin, ropeDims, 'rope.sin'),
      localCos: local ? b.weight('rope.local_cos', local.cos, ropeDims, 'rope.local_cos') : '',
      localSin: local ? b.weight('rope.local_sin', local.sin, ropeDims, 'rope.local_sin') : '',
    },
  };
}

/**
 * Token embeddings [B·S, H]. Sharded (world size > 1) the table holds this rank's vocabulary span
 * only: ids outside it give zero rows, so the sum over ranks is the embedding (one all-reduce).
 */
export function embedTokens(b: OnnxGraphBuilder, w: ShardWeights, dtype: ComputeType = 'float32'): { x: string; table: EmbeddingTable } {
  const c = w.config;
  const { start, count } = w.plan.vocab;
  // Shared by key so a tied LM head (the same rows) is stored once in the rank's data file.
  const shareKey = c.tieWordEmbeddings ? 'vocab_rows' : undefined;
  const rows = w.embed();
  const table: EmbeddingTable = isQuantized(rows)
    ? { kind: 'quantized', w: quantizedInitializers(b, 'embed_tokens', rows, shareKey) }
    : { kind: 'float', name: b.weight('embed_tokens', rows, [count, c.hiddenSize], shareKey) };
  const flat = b.constant('int64', [-1, c.hiddenSize]);
  // Gemma scales the embeddings by √hidden (rounded to the compute type, as its normalizer is); the tied head reads them unscaled.
  const scaled = (x: string) => (c.gemmaNorms ? b.op('Mul', [x, b.weight('embed_scale', Float32Array.of(Math.sqrt(c.hiddenSize)), [1], 'embed_scale')]) : x);
  if (count === c.vocabSize) return { table, x: scaled(b.op('Reshape', [gatherRows(b, table, STEP_IO.inputIds, dtype), flat])) };
  const local = b.op('Sub', [STEP_IO.inputIds, b.constant('int64', [start], [])]);
  const inSpan = b.op('And', [b.op('GreaterOrEqual', [local, b.constant('int64', [0], [])]), b.op('Less', [local, b.constant('int64', [count], [])])]);
  const gathered = gatherRows(b, table, b.op('Where', [inSpan, local, b.constant('int64', [0], [])]), dtype);
  const mask = b.op('Cast', [b.op('Unsqueeze', [inSpan, b.constant('int64', [-1])])], { to: onnxTypeOf(dtype) });
  return { table, x: scaled(b.op('Reshape', [b.op('Mul', [gathered, mask]), flat])) };
}

/**
 * Attention of layer l over this rank's heads: returns o_proj's output [B·S, H] (a partial sum when
 * sharded; the caller applies blockOutput) and declares new_k_l/new_v_l [kvH,B,S,D] (post-RoPE K) as outputs.
 */
export function attentionBlock(b: OnnxGraphBuilder, p: StepPrelude, l: number, x: string, normed?: string): string {
  const { w, nH, kvH, names: n } = p;
  const { hiddenSize: H, headDim: D } = w.config;
  const io = STEP_IO;
  // Q is pre-scaled by 1/sqrt(D) (RoPE is linear, so scaling before it is exact); with a q norm, its weight carries the scale.
  const qScale = attentionScale(w.config);
  const weightScale = w.config.qkNorm ? 1 : qScale;
  let t = w.qkv(l);
  if (projectsEveryHead(w.config, w.plan.worldSize)) {
    // OLMo 2 under TP: q and k of every head (their norm needs the whole projection), v of this rank's heads.
    if (t.bias) throw new Error(`${w.config.architecture}: q/k biases with a q/k norm over every head are not supported under TP`);
    t = { ...new ShardWeights(w.model, parallelPlan(w.config, 0, 1)).qkv(l), v: t.v, bias: null };
  }
  const q = weightScale === 1 ? t.q : isQuantized(t.q) ? scaleBlockAffine(t.q, weightScale) : t.q.map((v) => v * weightScale);
  const biases = t.bias ? [t.bias.q.map((v) => v * weightScale), t.bias.k, t.bias.v] : undefined;
  const xn = normed ?? blockInput(b, p, x, l, 'attention');
  const [qProj, kProj, vFlat] = linear(p.lin, `l${l}.qkv`, xn, [q, t.k, t.v], H, biases) as [string, string, string];
  const [qFlat, kFlat] = normQk(b, p, l, qProj, kProj, qScale);
  const withRope = layerUsesRope(w.config, l);
  const sliding = isSlidingLayer(w.config, l);

  // Attention without repeating KV heads, in [kvH, B, ·, ·] layout so the pooled past needs no transpose:
  // scores are computed transposed (K·Qᵀ, Q is small at decode) for the past and the new tokens apart,
  // so the gathered past K/V are never concatenated with the new ones either.
  const qRot = b.op('Reshape', [withRope ? rope(b, p, qFlat, nH, sliding) : qFlat, n.qShape]); // [B,S,kvH,G,D]
  const qT = b.op('Reshape', [b.op('Transpose', [qRot], { perm: [2, 0, 4, 3, 1] }), n.qTShape]); // [kvH,B,D,G·S]
  const kRot = b.op('Reshape', [withRope ? rope(b, p, kFlat, kvH, sliding) : kFlat, n.kvShape]); // [B,S,kvH,D]
  const onHost = p.kvLayout === 'host';
  const kNew = b.op('Transpose', [kRot], { perm: [2, 0, 1, 3] }, onHost ? io.newK(l) : undefined); // [kvH,B,S,D]
  const vNew = b.op('Transpose', [b.op('Reshape', [vFlat, n.kvShape])], { perm: [2, 0, 1, 3] }, onHost ? io.newV(l) : undefined);
  let kPast: string;
  let vPast: string;
  if (onHost) {
    kPast = b.op('Reshape', [b.op('Gather', [io.kCache(l), io.blockTable], { axis: 1 }), n.pastShape]); // [kvH,B,P,D]
    vPast = b.op('Reshape', [b.op('Gather', [io.vCache(l), io.blockTable], { axis: 1 }), n.pastShape]);
    b.output(io.newK(l), p.dtype, [kvH, 'batch', 'seq', D]);
    b.output(io.newV(l), p.dtype, [kvH, 'batch', 'seq', D]);
  } else {
    // Pools [slots, kvH, D]: gather the past by slot, and write this step's rows in place.
    kPast = b.op('Transpose', [b.op('Gather', [io.kCache(l), n.slotTable], { axis: 0 })], { perm: [2, 0, 1, 3] }); // [kvH,B,P,D]
    vPast = b.op('Transpose', [b.op('Gather', [io.vCache(l), n.slotTable], { axis: 0 })], { perm: [2, 0, 1, 3] });
    const written = (rows: string) => b.op('Gather', [b.op('Reshape', [rows, n.tokenHeads]), io.writeRows], { axis: 0 }); // [R,kvH,D]
    b.op('ScatterND', [io.kCache(l), io.writeSlots, written(kRot)], {}, io.kCacheOut(l));
    b.op('ScatterND', [io.vCache(l), io.writeSlots, written(vFlat)], {}, io.vCacheOut(l));
    b.output(io.kCacheOut(l), p.dtype, ['num_slots', kvH, D]);
    b.output(io.vCacheOut(l), p.dtype, ['num_slots', kvH, D]);
  }
  const scoresT = b.op('Concat', [b.op('MatMul', [kPast, qT]), b.op('MatMul', [kNew, qT])], { axis: 2 }); // [kvH,B,T,G·S]
  // Masking and softmax in float32 whatever the compute type (the bias holds -inf).
  const half = p.dtype === 'float16';
  const scoresRaw = b.op('Transpose', [scoresT], { perm: [0, 1, 3, 2] });
  const scores = b.op('Add', [
    softcap(b, half ? b.op('Cast', [scoresRaw], { to: FLOAT }) : scoresRaw, w.config.attnLogitSoftcap),
    sliding ? n.localBias : n.bias,
  ]); // [kvH,B,G·S,T]
  const softmax = b.op('Softmax', [scores], { axis: -1 });
  const probs = half ? b.op('Cast', [softmax], { to: onnxTypeOf('float16') }) : softmax;
  const [pPast, pNew] = b.node('Split', [probs, n.pastNewSplit], { axis: 3 }, 2) as [string, string];
  const attn = b.op('Add', [b.op('MatMul', [pPast, vPast]), b.op('MatMul', [pNew, vNew])]); // [kvH,B,G·S,D]
  const attnTokens = b.op('Transpose', [b.op('Reshape', [attn, n.attnOutShape])], { perm: [1, 3, 0, 2, 4] }); // [B,S,kvH,G,D]
  return linear(p.lin, `l${l}.o_proj`, b.op('Reshape', [attnTokens, n.flatHeads]), [w.oProj(l)], nH * D)[0]!;
}

/** SwiGLU MLP (or sparse MoE MLP, moe.ts) of layer l over this rank's FFN columns: down_proj's output [B·S, H] (partial when sharded; the caller applies blockOutput). */
export function mlpBlock(b: OnnxGraphBuilder, p: NormConstants, l: number, x: string, normed?: string): string {
  const { w } = p;
  const H = w.config.hiddenSize;
  const F = w.plan.ffn.count;
  const xn = normed ?? blockInput(b, p, x, l, 'mlp');
  // Mixtral / Qwen3-MoE: the sparse MLP (moe.ts) in place of the dense one.
  if (isSparseLayer(w.config, l)) return moeBlock(p, l, xn);
  const { gate: g, up: u } = w.gateUp(l);
  const [gate, up] = linear(p.lin, `l${l}.gate_up`, xn, [g, u], H) as [string, string];
  const act = gatedActivation(b, w.config, gate, up);
  return linear(p.lin, `l${l}.down_proj`, act, [w.down(l)], F)[0]!;
}

/** Final norm of the rows in logit_rows and this rank's LM head rows → `logits` [R, vocab span]. */
export function headBlock(b: OnnxGraphBuilder, p: NormConstants, x: string, tiedTable: EmbeddingTable | null): void {
  const { w } = p;
  const c = w.config;
  b.input(STEP_IO.logitRows, 'int64', ['rows']);
  const rows = b.op('Gather', [x, STEP_IO.logitRows], { axis: 0 });
  const normed = rmsNorm(b, p, rows, b.weight('final_norm', normWeight(c, w.finalNorm()), [c.hiddenSize]));
  let logits: string;
  if (tiedTable?.kind === 'quantized') logits = quantizedMatMul(p.lin, normed, tiedTable.w);
  else if (tiedTable) logits = b.op('Gemm', [normed, tiedTable.name], { transB: 1 });
  else {
    const head = w.lmHead();
    const shareKey = c.tieWordEmbeddings ? 'vocab_rows' : undefined;
    logits = isQuantized(head)
      ? quantizedMatMul(p.lin, normed, quantizedInitializers(b, 'lm_head', head, shareKey))
      : b.op('Gemm', [normed, b.weight('lm_head', head, [w.plan.vocab.count, c.hiddenSize], shareKey)], { transB: 1 });
  }
  // Gemma 2 soft-caps the final logits (in float32).
  b.op('Identity', [softcap(b, p.dtype === 'float16' ? b.op('Cast', [logits], { to: FLOAT }) : logits, c.finalLogitSoftcap)], {}, STEP_IO.logits);
  b.output(STEP_IO.logits, 'float32', ['rows', w.plan.vocab.count]);
}

/**
 * Each row's `top_k` highest logits and their ids (ONNX TopK: sorted, ties to the lower index, as
 * the sampler's argmax and top-n), so greedy steps read k values per row instead of the vocabulary.
 */
function selectTopLogits(b: OnnxGraphBuilder): void {
  b.input(STEP_IO.topK, 'int64', [1]);
  b.node('TopK', [STEP_IO.logits, STEP_IO.topK], { axis: -1, largest: 1, sorted: 1 }, [STEP_IO.topLogits, STEP_IO.topIds]);
  b.output(STEP_IO.topLogits, 'float32', ['rows', 'top_k']);
  b.output(STEP_IO.topIds, 'int64', ['rows', 'top_k']);
}

/**
 * Builds the step graph for the whole model (world size 1). Inputs: input_ids, position_ids [B,S];
 * attention_bias [B,S,P+S] (float32); logit_rows [R]; block_table [B,M] (P = M·blockSize); host KV:
 * k/v_cache_l [kvH, numBlocks, blockSize, D]; device KV: block_offsets [blockSize], write_rows [W],
 * write_slots [W,1] and k/v_cache_l [slots, kvH, D]; top_k [1]. Outputs: logits [R,V], logits_lse [R]
 * (float32) and top_logits / top_ids [R, top_k]; host KV: new_k_l/new_v_l [kvH,B,S,D] (post-RoPE K); device KV: k/v_cache_out_l.
 */
export function buildLlamaStepGraph(b: OnnxGraphBuilder, model: LoadedModel, progress?: BuildProgress, opts: StepGraphOptions = DEFAULT_GRAPH_OPTIONS): void {
  if (b.weightType !== opts.dtype) throw new Error(`the builder stores ${b.weightType} weights but the graph computes in ${opts.dtype}`);
  const w = new ShardWeights(model, parallelPlan(model.config, 0, 1));
  const L = model.config.numLayers;
  const total = L + 2;
  const layers = Array.from({ length: L }, (_, l) => l);
  declareStepInputs(b, w, layers, true, opts);
  const p = stepPrelude(b, w, 0, opts);
  const embed = embedTokens(b, w, opts.dtype);
  // The residual stream, and the last block's output not yet added to it: the add and the next
  // block's norm are one node (addResidualAndBlockInput).
  let x = embed.x;
  let pending: string | null = null;
  progress?.(1, total);
  for (const l of layers) {
    for (const block of ['attention', 'mlp'] as const) {
      let normed: string;
      if (pending === null) normed = blockInput(b, p, x, l, block);
      else [normed, x] = addResidualAndBlockInput(b, p, x, pending, l, block);
      const out = block === 'attention' ? attentionBlock(b, p, l, x, normed) : mlpBlock(b, p, l, x, normed);
      pending = blockOutput(b, p, out, l, block);
    }
    progress?.(l + 2, total);
  }
  if (pending !== null) x = b.op('Add', [x, pending]);
  headBlock(b, p, x, model.config.tieWordEmbeddings ? embed.table : null);
  b.op('ReduceLogSumExp', [STEP_IO.logits], { axes: [1], keepdims: 0 }, STEP_IO.logitsLse);
  b.output(STEP_IO.logitsLse, 'float32', ['rows']);
  selectTopLogits(b);
  progress?.(total, total);
}
