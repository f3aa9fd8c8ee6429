// @module Sparse MoE MLP (Mixtral, Qwen3-MoE): softmax router, top-k with each family's renormalisation, experts run dense and masked.
//
// Formulation (docs/moe.md): every expert runs on every row and the rows' routing weights — zero for the
// experts a token did not pick — scale the experts' activations before one down projection:
//
//     y = Σ_e w_e · down_e(silu(gate_e x) ⊙ up_e x) = [down_0 … down_E-1] · concat_e(w_e · act_e)
//
// so a layer is the dense SwiGLU MLP with E·F columns (two linears: stacked gate/up rows, side-by-side down
// columns, float Gemm or quantized MatMulNBits as the file stores them) plus a routing weight per column
// block. It costs E/k times the active FLOPs, but has no data-dependent shapes, no per-expert nodes, and
// splits across tensor-parallel ranks exactly like the dense MLP: each rank holds its slice of every
// expert's intermediate columns, routes every token itself (the router is replicated) and the one
// all-reduce after the MLP sums the slices.
import { linear } from './linear.ts';
import type { NormConstants } from './llama.ts';
import { onnxTypeOf } from './onnx-builder.ts';
import { stackColumns, stackRows } from './expert-matrices.ts';

const FLOAT = onnxTypeOf('float32');

/**
 * Routing weights [R, E] (float32) from normalised rows xn [R, H]: softmax over all E router logits, the
 * top k kept, renormalised to sum 1 when the family does (MixtralSparseMoeBlock always; Qwen3MoeSparseMoeBlock
 * when norm_topk_prob), every other expert's weight 0.
 */
export function routingWeights(p: NormConstants, l: number, xn: string): string {
  const { w, lin } = p;
  const b = lin.b;
  const moe = w.config.moe!;
  const router = b.weight(`l${l}.router`, w.router(l), [moe.numExperts, w.config.hiddenSize]);
  const logits = b.op('Gemm', [xn, router], { transB: 1 });
  const probs = b.op('Softmax', [p.dtype === 'float16' ? b.op('Cast', [logits], { to: FLOAT }) : logits], { axis: -1 });
  const [top, experts] = b.node('TopK', [probs, b.constant('int64', [moe.topK])], { axis: -1, largest: 1, sorted: 1 }, 2) as [string, string];
  const kept = moe.normTopK ? b.op('Div', [top, b.op('ReduceSum', [top, b.constant('int64', [-1])], { keepdims: 1 })]) : top;
  const zeros = b.op('Mul', [probs, b.constant('float32', [0], [])]);
  return b.op('ScatterElements', [zeros, experts, kept], { axis: 1 });
}

/** The sparse MLP of layer l on normalised rows xn [R, H]: [R, H], this rank's partial sum when sharded. */
export function moeBlock(p: NormConstants, l: number, xn: string): string {
  const { w, lin } = p;
  const b = lin.b;
  const H = w.config.hiddenSize;
  const E = w.config.moe!.numExperts;
  const F = w.plan.expertFfn.count;
  const experts = Array.from({ length: E }, (_, e) => e);
  const gateUp = experts.map((e) => w.expertGateUp(l, e));
  const [gate, up] = linear(lin, `l${l}.experts_gate_up`, xn, [stackRows(gateUp.map((m) => m.gate)), stackRows(gateUp.map((m) => m.up))], H) as [string, string];
  const act = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate])]), up]); // [R, E·F]
  const weights = routingWeights(p, l, xn);
  const perExpert = b.op('Unsqueeze', [p.dtype === 'float16' ? b.op('Cast', [weights], { to: onnxTypeOf('float16') }) : weights, b.constant('int64', [-1])]); // [R, E, 1]
  const scaled = b.op('Mul', [b.op('Reshape', [act, b.constant('int64', [0, E, F])]), perExpert]);
  const down = stackColumns(experts.map((e) => w.expertDown(l, e)), H);
  return linear(lin, `l${l}.experts_down`, b.op('Reshape', [scaled, b.constant('int64', [0, E * F])]), [down], E * F)[0]!;
}
