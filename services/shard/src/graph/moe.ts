// @module Sparse MoE MLP (Mixtral, Qwen3-MoE): softmax router, top-k with each family's renormalisation, each expert run on its own rows.
//
// Formulation (docs/moe.md): gather by expert, in standard ONNX ops. Per expert, the rows routed to it are
// found (NonZero of its routing weight), gathered, run through that expert's SwiGLU (its own Gemm or
// MatMulNBits, as the file stores it; zero rows is a valid, empty matmul), weighted, and added back into one
// float32 accumulator (ScatterND, reduction "add"). The work is the active experts' only; the price is ~15
// nodes per expert.
// (The first version ran every expert on every row with zero weights, two wide linears per layer: the same
// results, E/k times the FLOPs; measured against this one in docs/moe.md.)
//
// Tensor parallelism: each rank holds its slice of every expert's intermediate columns (like the dense MLP),
// routes every token itself (the router is replicated; its input is the all-reduced hidden state, so every
// rank picks the same experts) and the one all-reduce after the MLP sums the slices.
import { linear } from './linear.ts';
import type { NormConstants } from './llama.ts';
import { onnxTypeOf } from './onnx-builder.ts';

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
  const F = w.plan.expertFfn.count;
  const weights = routingWeights(p, l, xn);
  const zero = b.constant('float32', [0], []);
  const flat = b.constant('int64', [-1]);
  const column = b.constant('int64', [-1, 1]);
  const half = p.dtype === 'float16';
  // Each expert adds its weighted rows into one float32 accumulator [R, H] (ScatterND with reduction "add",
  // which the CPU provider has for float32 only; float32 also sums the experts more exactly).
  let sum = b.op('Mul', [half ? b.op('Cast', [xn], { to: FLOAT }) : xn, zero]);
  for (let e = 0; e < w.config.moe!.numExperts; e++) {
    // The rows routed to expert e (a weight above 0), possibly none: [n].
    const weight = b.op('Gather', [weights, b.constant('int64', [e], [])], { axis: 1 }); // [R]
    const rows = b.op('Reshape', [b.op('NonZero', [b.op('Greater', [weight, zero])]), flat]);
    const x = b.op('Gather', [xn, rows], { axis: 0 }); // [n, H]
    const { gate: g, up: u } = w.expertGateUp(l, e);
    const [gate, up] = linear(lin, `l${l}.e${e}.gate_up`, x, [g, u], H) as [string, string];
    const act = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate])]), up]);
    const y = linear(lin, `l${l}.e${e}.down`, act, [w.expertDown(l, e)], F)[0]!; // [n, H]
    const rowWeight = b.op('Unsqueeze', [b.op('Gather', [weight, rows], { axis: 0 }), flat]); // [n, 1]
    const scaled = b.op('Mul', [half ? b.op('Cast', [y], { to: FLOAT }) : y, rowWeight]);
    sum = b.op('ScatterND', [sum, b.op('Reshape', [rows, column]), scaled], { reduction: 'add' });
  }
  return half ? b.op('Cast', [sum], { to: onnxTypeOf('float16') }) : sum;
}
