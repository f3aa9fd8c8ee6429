// @module Qwen3-style qk-norm (Qwen3-MoE attention): RMSNorm over each head's D values of Q and K, before RoPE.
// A minimal copy for MoE; the `families` branch builds Qwen3's own, the two are meant to merge into one.
import type { OnnxGraphBuilder } from './onnx-builder.ts';
import type { StepPrelude } from './llama.ts';

/**
 * q [R, nH·D], k [R, kvH·D] → the same with each head normalised by the layer's q_norm / k_norm [D]
 * (Qwen3MoeAttention: q_norm(q.view(..., head_dim))). `qScale` (1/√D) is folded into q_norm's weight,
 * because Q cannot be pre-scaled in its projection when a norm follows it.
 */
export function qkNorm(b: OnnxGraphBuilder, p: StepPrelude, l: number, q: string, k: string, qScale: number): [string, string] {
  const { w, nH, kvH } = p;
  const D = w.config.headDim;
  const weights = w.qkNorm(l);
  const norm = (x: string, heads: number, weight: Float32Array, name: string) => {
    const perHead = b.op('Reshape', [x, b.constant('int64', [-1, heads, D])]);
    const normed = b.op('SimplifiedLayerNormalization', [perHead, b.weight(name, weight, [D])], { axis: -1, epsilon: { float: w.config.rmsNormEps }, stash_type: 1 });
    return b.op('Reshape', [normed, b.constant('int64', [-1, heads * D])]);
  };
  return [norm(q, nH, weights.q.map((v) => v * qScale), `l${l}.q_norm`), norm(k, kvH, weights.k, `l${l}.k_norm`)];
}
