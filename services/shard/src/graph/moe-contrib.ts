// @module Sparse MoE MLP through onnxruntime's fused com.microsoft.MoE (float32 experts): routing, top-k and experts in one node.
//
// Probed on onnxruntime-node 1.30's CPU provider (docs/moe.md): it takes the router logits and does the
// softmax, top-k and (normalize_routing_weights) renormalisation itself; with activation_type "swiglu" and
// interleaved gate/up rows (swiglu_fusion 1, the only layout the CPU kernel accepts) its default SwiGLU is
// silu(gate)·up, equal to a plain-op MoE to 1.5e-8. A separate gate input (fc3) is refused on the CPU, hence
// the interleaving. Quantized or float16 experts take the gather path (moe.ts).
import { isQuantized } from '../weights/shard-weights.ts';
import type { NormConstants } from './llama.ts';

/**
 * Whether layer l's experts can run through the fused node: float32 weights and graph, world size 1. Sharded
 * (each rank a slice of every expert) the ranks' partial outputs did not sum to the reference (max |Δ| 0.36 in
 * the TP = 2 test, whose two ranks run in one process), although one node alone matches a plain-op MoE for
 * every expert width tried (8–64 columns). Not understood yet — state shared between sessions is one
 * suspect — so ranks take the gather path, which is checked at TP = 2.
 */
export function canUseMoeContrib(p: NormConstants, l: number): boolean {
  if (p.dtype !== 'float32' || p.w.plan.worldSize !== 1) return false;
  const first = p.w.expertGateUp(l, 0);
  return !isQuantized(first.gate) && !isQuantized(first.up) && !isQuantized(p.w.expertDown(l, 0));
}

/** The sparse MLP of layer l on normalised rows xn [R, H] as one MoE node: [R, H], this rank's partial sum when sharded. */
export function moeContribBlock(p: NormConstants, l: number, xn: string): string {
  const { w, lin } = p;
  const b = lin.b;
  const H = w.config.hiddenSize;
  const { numExperts: E, topK, normTopK } = w.config.moe!;
  const F = w.plan.expertFfn.count;
  // fc1 [E, 2F, H]: gate row f, then up row f, for each f (interleaved); fc2 [E, H, F].
  const fc1 = new Float32Array(E * 2 * F * H);
  const fc2 = new Float32Array(E * H * F);
  for (let e = 0; e < E; e++) {
    const { gate, up } = w.expertGateUp(l, e) as { gate: Float32Array; up: Float32Array };
    for (let f = 0; f < F; f++) {
      fc1.set(gate.subarray(f * H, (f + 1) * H), (e * 2 * F + 2 * f) * H);
      fc1.set(up.subarray(f * H, (f + 1) * H), (e * 2 * F + 2 * f + 1) * H);
    }
    fc2.set(w.expertDown(l, e) as Float32Array, e * H * F);
  }
  const router = b.weight(`l${l}.router`, w.router(l), [E, H]);
  const logits = b.op('Gemm', [xn, router], { transB: 1 });
  return b.op('com.microsoft.MoE', [xn, logits, b.weight(`l${l}.experts_fc1`, fc1, [E, 2 * F, H]), '', b.weight(`l${l}.experts_fc2`, fc2, [E, H, F])], {
    k: topK,
    activation_type: 'swiglu',
    swiglu_fusion: 1,
    normalize_routing_weights: normTopK ? 1 : 0,
  });
}
