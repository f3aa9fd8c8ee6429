// @module fp64 reference of the sparse MoE MLP and of qk-norm, written from transformers' modelling code (not from the graph builder).
//
// - MoE: transformers models/mixtral/modeling_mixtral.py MixtralSparseMoeBlock.forward (softmax over the router
//   logits in float, torch.topk, `routing_weights /= routing_weights.sum(dim=-1, keepdim=True)`, each expert
//   MixtralBlockSparseTop2MLP: w2(act_fn(w1(x)) * w3(x))) and models/qwen3_moe/modeling_qwen3_moe.py
//   Qwen3MoeSparseMoeBlock.forward (the same, the division only `if self.norm_topk_prob`).
// - qk-norm: Qwen3MoeAttention.forward, `self.q_norm(self.q_proj(hidden_states).view(hidden_shape))` — an
//   RMSNorm (Qwen3MoeRMSNorm) over each head's head_dim values, before apply_rotary_pos_emb.
import { isSparseLayer, type LoadedModel, moeTensorNames } from '@tessera/model-files';

type Matrix = { rows: number; cols: number; data: Float64Array };

function matrix(model: LoadedModel, name: string): Matrix {
  const t = model.tensor(name);
  return { rows: t.shape[0]!, cols: t.shape.length > 1 ? t.shape[1]! : 1, data: Float64Array.from(t.data) };
}

function matVec(w: Matrix, x: Float64Array): Float64Array {
  const y = new Float64Array(w.rows);
  for (let o = 0; o < w.rows; o++) {
    let s = 0;
    for (let i = 0; i < w.cols; i++) s += w.data[o * w.cols + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

export class ReferenceMoeMlp {
  readonly #router: Matrix;
  readonly #experts: { w1: Matrix; w3: Matrix; w2: Matrix }[];
  readonly #topK: number;
  readonly #norm: boolean;

  constructor(model: LoadedModel, layer: number) {
    const moe = model.config.moe!;
    const n = moeTensorNames(model.config, layer);
    this.#router = matrix(model, n.router);
    this.#experts = Array.from({ length: moe.numExperts }, (_, e) => ({
      w1: matrix(model, n.gate(e)),
      w3: matrix(model, n.up(e)),
      w2: matrix(model, n.down(e)),
    }));
    this.#topK = moe.topK;
    this.#norm = moe.normTopK;
  }

  static forLayer(model: LoadedModel, layer: number): ReferenceMoeMlp | undefined {
    return isSparseLayer(model.config, layer) ? new ReferenceMoeMlp(model, layer) : undefined;
  }

  /** softmax(router(x)) over every expert. */
  probabilities(x: Float64Array): number[] {
    const logits = matVec(this.#router, x);
    const max = Math.max(...logits);
    const exps = Array.from(logits, (v) => Math.exp(v - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    return exps.map((v) => v / sum);
  }

  /** The experts this row picks, best first, with their weights (for tests that check routing margins). */
  route(x: Float64Array): { expert: number; weight: number; prob: number }[] {
    const probs = this.probabilities(x);
    const top = probs
      .map((prob, expert) => ({ expert, prob }))
      .sort((a, b) => b.prob - a.prob)
      .slice(0, this.#topK);
    const topSum = top.reduce((a, t) => a + t.prob, 0);
    return top.map((t) => ({ ...t, weight: this.#norm ? t.prob / topSum : t.prob }));
  }

  forward(x: Float64Array): Float64Array {
    const out = new Float64Array(x.length);
    for (const { expert, weight } of this.route(x)) {
      const { w1, w3, w2 } = this.#experts[expert]!;
      const gate = matVec(w1, x);
      const up = matVec(w3, x);
      const y = matVec(
        w2,
        gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!),
      );
      for (let i = 0; i < out.length; i++) out[i]! += weight * y[i]!;
    }
    return out;
  }
}
