// @module What families add inside the Llama block: q/k norms, layers without RoPE, norms after the blocks, Gemma's norms/GeGLU/soft-caps, sliding windows.
import type { ModelConfig } from '@tessera/model-files';
import type { OnnxGraphBuilder } from '../onnx-builder.ts';
import type { NormConstants } from '../llama.ts';

/** RMSNorm over the last axis as one SimplifiedLayerNormalization (float16 inputs normed in float32). */
export function rmsNormNode(b: OnnxGraphBuilder, p: NormConstants, x: string, weight: string): string {
  return b.op('SimplifiedLayerNormalization', [x, weight], { axis: -1, epsilon: { float: p.w.config.rmsNormEps }, stash_type: 1 });
}

/** Whether layer l rotates q and k (SmolLM3's NoPE layers do not). */
export function layerUsesRope(c: ModelConfig, l: number): boolean {
  return c.ropeLayers?.[l] ?? true;
}

/**
 * Whether a rank projects q and k for every head: OLMo 2's q/k RMSNorm takes its statistic over the whole
 * projection, so under TP each rank computes all of q and k, norms them and keeps its heads' columns. Replicating
 * the two projections (H·(H + kvH·D) multiply-adds per token) avoids a second all-reduce inside every attention.
 */
export function projectsEveryHead(c: ModelConfig, worldSize: number): boolean {
  return c.qkNorm === 'projection' && worldSize > 1;
}

/** Whether blocks are normed after they run (OLMo 2's post-norms, Gemma's sandwich): under TP the norm follows the all-reduce. */
export function hasOutputNorms(c: ModelConfig): boolean {
  return c.normPlacement === 'post' || c.normPlacement === 'sandwich';
}

/**
 * q and k after the family's norm (none, per head, or over the whole projection), both [B·S, heads·D] of this rank's heads.
 * `qScale` (1/√D) is folded into the q norm's weight: the norm would undo a scale applied before it.
 */
export function normQk(b: OnnxGraphBuilder, p: NormConstants, l: number, q: string, k: string, qScale: number): [string, string] {
  const c = p.w.config;
  if (!c.qkNorm) return [q, k];
  const name = (which: 'q' | 'k') => `model.layers.${l}.self_attn.${which}_norm.weight`;
  const qWeight = normWeight(c, p.w.model.tensor(name('q')).data).map((v) => v * qScale);
  const kWeight = normWeight(c, p.w.model.tensor(name('k')).data);
  if (c.qkNorm === 'projection') {
    // q and k span every head here (projectsEveryHead); past the norm a rank keeps only its own heads.
    const { heads, kvHeads, worldSize } = p.w.plan;
    const own = (x: string, span: { start: number; count: number }) =>
      worldSize === 1
        ? x
        : b.op('Slice', [
            x,
            b.constant('int64', [span.start * c.headDim]),
            b.constant('int64', [(span.start + span.count) * c.headDim]),
            b.constant('int64', [1]),
          ]);
    return [
      own(rmsNormNode(b, p, q, b.weight(`l${l}.q_norm`, qWeight, [qWeight.length])), heads),
      own(rmsNormNode(b, p, k, b.weight(`l${l}.k_norm`, kWeight, [kWeight.length])), kvHeads),
    ];
  }
  // Per head: rows of D values, then back to [B·S, heads·D] (this rank's heads; the [D] weight is shared by all).
  const D = c.headDim;
  const byHead = b.constant('int64', [-1, D]);
  const perHead = (x: string, w: string, width: number) =>
    b.op('Reshape', [rmsNormNode(b, p, b.op('Reshape', [x, byHead]), w), b.constant('int64', [-1, width])]);
  return [
    perHead(q, b.weight(`l${l}.q_norm`, qWeight, [D]), p.w.plan.heads.count * D),
    perHead(k, b.weight(`l${l}.k_norm`, kWeight, [D]), p.w.plan.kvHeads.count * D),
  ];
}

/** A norm's weight as the graph multiplies by it: Gemma's RMSNorm scales by (1 + w). */
export function normWeight(c: ModelConfig, w: Float32Array): Float32Array {
  return c.gemmaNorms ? w.map((v) => v + 1) : w;
}

/** The factor on q·k: 1/√query_pre_attn_scalar (Gemma), else 1/√head_dim. */
export function attentionScale(c: ModelConfig): number {
  return 1 / Math.sqrt(c.queryPreAttnScalar ?? c.headDim);
}

/** Whether layer l attends within the sliding window (Mistral: every layer; Gemma: the local ones). */
export function isSlidingLayer(c: ModelConfig, l: number): boolean {
  return c.slidingWindow !== null && (c.slidingLayers?.[l] ?? true);
}

/**
 * The window when every layer slides (Mistral v0.1, Phi-3-mini-4k), else 0 (none, or global layers as
 * in Gemma): only then are a sequence's blocks behind the window never read again by any layer.
 */
export function everyLayerSlidingWindow(c: ModelConfig): number {
  if (c.slidingWindow === null) return 0;
  for (let l = 0; l < c.numLayers; l++) if (!isSlidingLayer(c, l)) return 0;
  return c.slidingWindow;
}

/** The MLP's gated activation: SiLU(gate)·up, or GeLU-tanh(gate)·up for Gemma (FastGelu is the tanh form). */
export function gatedActivation(b: OnnxGraphBuilder, c: ModelConfig, gate: string, up: string): string {
  const act = c.gemmaNorms ? b.op('com.microsoft.FastGelu', [gate]) : b.op('Mul', [gate, b.op('Sigmoid', [gate])]);
  return b.op('Mul', [act, up]);
}

/** cap · tanh(x / cap) on a float32 value (Gemma 2's soft-capping), or x when there is no cap. */
export function softcap(b: OnnxGraphBuilder, x: string, cap: number | undefined): string {
  if (cap === undefined) return x;
  const c = b.constant('float32', [cap], []);
  return b.op('Mul', [b.op('Tanh', [b.op('Div', [x, c])]), c]);
}

/**
 * attention_bias [B,S,T] with the keys a sliding layer cannot see masked too: q_pos − k_pos ≥ window
 * (transformers' sliding_window_overlay; llama.cpp LLAMA_SWA_TYPE_STANDARD). Past column j holds position j
 * (the block table lists a sequence's blocks in order) and new column P + s' holds position_ids[s'].
 */
export function slidingWindowBias(b: OnnxGraphBuilder, window: number, bias: string, positionIds: string, past: string): string {
  const pastPositions = b.op('Range', [b.constant('int64', [0], []), b.op('Squeeze', [past, b.constant('int64', [0])]), b.constant('int64', [1], [])]);
  const batchPast = b.op('Concat', [b.op('Shape', [positionIds], { start: 0, end: 1 }), past], { axis: 0 });
  const keyPositions = b.op('Concat', [b.op('Expand', [b.op('Unsqueeze', [pastPositions, b.constant('int64', [0])]), batchPast]), positionIds], { axis: 1 }); // [B,T]
  const distance = b.op('Sub', [b.op('Unsqueeze', [positionIds, b.constant('int64', [2])]), b.op('Unsqueeze', [keyPositions, b.constant('int64', [1])])]); // [B,S,T]
  const outside = b.op('GreaterOrEqual', [distance, b.constant('int64', [window], [])]);
  return b.op('Where', [outside, b.constant('float32', [-Infinity], []), bias]);
}

/** The block input as attention/MLP read it: pre-norm families norm it (Gemma's MLP by pre_feedforward_layernorm), post-norm ones (OLMo 2) do not. */
export function blockInput(b: OnnxGraphBuilder, p: NormConstants, x: string, l: number, block: 'attention' | 'mlp'): string {
  const weight = blockInputNorm(b, p, l, block);
  return weight === null ? x : rmsNormNode(b, p, x, weight);
}

/**
 * The residual sum `x + out` and the next block's input from it, in one node where that block
 * pre-norms: onnxruntime's SkipSimplifiedLayerNormalization, whose fourth output is the sum. Its
 * optimizer fuses Add + SimplifiedLayerNormalization only on 3-D activations, and these are
 * [B·S, H]. Returns [block input, residual].
 */
export function addResidualAndBlockInput(
  b: OnnxGraphBuilder,
  p: NormConstants,
  x: string,
  out: string,
  l: number,
  block: 'attention' | 'mlp',
): [string, string] {
  const weight = blockInputNorm(b, p, l, block);
  if (weight === null) {
    const sum = b.op('Add', [x, out]);
    return [sum, sum];
  }
  const [normed, , , sum] = b.node('com.microsoft.SkipSimplifiedLayerNormalization', [out, x, weight], { epsilon: { float: p.w.config.rmsNormEps } }, 4);
  return [normed!, sum!];
}

/** The weight of the norm before attention/MLP, or null where the family norms after the block instead. */
function blockInputNorm(b: OnnxGraphBuilder, p: NormConstants, l: number, block: 'attention' | 'mlp'): string | null {
  const c = p.w.config;
  if (c.normPlacement === 'post') return null;
  const [normName, tensor] =
    block === 'attention'
      ? [`l${l}.input_norm`, 'input_layernorm']
      : [`l${l}.post_norm`, c.normPlacement === 'sandwich' ? 'pre_feedforward_layernorm' : 'post_attention_layernorm'];
  return b.weight(normName, normWeight(c, p.w.model.tensor(`model.layers.${l}.${tensor}.weight`).data), [c.hiddenSize]);
}

/**
 * The block output as added to the residual: post- and sandwich-norm families norm it (post_attention / post_feedforward
 * norms). Callers apply it: under TP it runs on the all-reduced output, in the segment after the block's.
 */
export function blockOutput(b: OnnxGraphBuilder, p: NormConstants, out: string, l: number, block: 'attention' | 'mlp'): string {
  const c = p.w.config;
  if (!hasOutputNorms(c)) return out;
  const tensor = `model.layers.${l}.${block === 'attention' ? 'post_attention_layernorm' : 'post_feedforward_layernorm'}.weight`;
  return rmsNormNode(b, p, out, b.weight(`l${l}.${block}_out_norm`, normWeight(c, p.w.model.tensor(tensor).data), [c.hiddenSize]));
}
