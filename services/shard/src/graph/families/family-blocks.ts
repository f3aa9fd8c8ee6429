// @module What families add inside the Llama block's attention and MLP: q/k norms, layers without RoPE, norms after the blocks.
import type { ModelConfig } from '@tessera/model-files';
import { ParallelPlanError } from '../../weights/shard-weights.ts';
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
 * Refuses a split the family's graph cannot express: OLMo 2's q/k norm takes its statistics over every
 * head, and its norms after attention/MLP apply to the all-reduced output, not to one rank's partial sum.
 */
export function assertFamilySplits(c: ModelConfig, worldSize: number): void {
  if (worldSize === 1) return;
  if (c.qkNorm === 'projection' || c.normPlacement === 'post') {
    throw new ParallelPlanError(`${c.architecture} does not run tensor-parallel yet (its q/k norm spans every head and its norms follow the all-reduce): use one shard`);
  }
}

/**
 * q and k after the family's norm (none, per head, or over the whole projection), both [B·S, heads·D].
 * `qScale` (1/√D) is folded into the q norm's weight: the norm would undo a scale applied before it.
 */
export function normQk(b: OnnxGraphBuilder, p: NormConstants, l: number, q: string, k: string, qScale: number): [string, string] {
  const c = p.w.config;
  if (!c.qkNorm) return [q, k];
  const name = (which: 'q' | 'k') => `model.layers.${l}.self_attn.${which}_norm.weight`;
  const qWeight = p.w.model.tensor(name('q')).data.map((v) => v * qScale);
  const kWeight = p.w.model.tensor(name('k')).data;
  if (c.qkNorm === 'projection') {
    return [rmsNormNode(b, p, q, b.weight(`l${l}.q_norm`, qWeight, [qWeight.length])), rmsNormNode(b, p, k, b.weight(`l${l}.k_norm`, kWeight, [kWeight.length]))];
  }
  // Per head: rows of D values, then back to [B·S, heads·D] (this rank's heads; the [D] weight is shared by all).
  const D = c.headDim;
  const byHead = b.constant('int64', [-1, D]);
  const perHead = (x: string, w: string, width: number) => b.op('Reshape', [rmsNormNode(b, p, b.op('Reshape', [x, byHead]), w), b.constant('int64', [-1, width])]);
  return [perHead(q, b.weight(`l${l}.q_norm`, qWeight, [D]), p.w.plan.heads.count * D), perHead(k, b.weight(`l${l}.k_norm`, kWeight, [D]), p.w.plan.kvHeads.count * D)];
}

/** The block input as attention/MLP read it: pre-norm families norm it, post-norm ones (OLMo 2) do not. */
export function blockInput(b: OnnxGraphBuilder, p: NormConstants, x: string, normName: string, tensor: string): string {
  if (p.w.config.normPlacement === 'post') return x;
  return rmsNormNode(b, p, x, b.weight(normName, p.w.model.tensor(tensor).data, [p.w.config.hiddenSize]));
}

/** The block output as added to the residual: post-norm families norm it (OLMo 2's post_attention / post_feedforward norms). */
export function blockOutput(b: OnnxGraphBuilder, p: NormConstants, out: string, l: number, block: 'attention' | 'mlp'): string {
  if (p.w.config.normPlacement !== 'post') return out;
  const tensor = `model.layers.${l}.${block === 'attention' ? 'post_attention_layernorm' : 'post_feedforward_layernorm'}.weight`;
  return rmsNormNode(b, p, out, b.weight(`l${l}.${block}_out_norm`, p.w.model.tensor(tensor).data, [p.w.config.hiddenSize]));
}
