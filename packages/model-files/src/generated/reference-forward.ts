// @module A plain-JS Llama/Qwen2 forward pass (float64 accumulation, no cache): a slow numerical oracle for tests.

import type { FloatTensor, ModelConfig } from '../types.ts';

/** Rotary inverse frequencies, with linear or llama3 scaling applied as transformers does. */
export function ropeInverseFrequencies(config: ModelConfig): Float64Array {
  const half = config.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / config.headDim);
  const scaling = config.ropeScaling;
  if (scaling?.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] /= scaling.factor;
  } else if (scaling?.type === 'llama3') {
    const old = scaling.originalMaxPositionEmbeddings;
    const lowWavelen = old / scaling.lowFreqFactor;
    const highWavelen = old / scaling.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] /= scaling.factor;
      else if (wavelen >= highWavelen) {
        const smooth = (old / wavelen - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
        inv[i] = ((1 - smooth) * inv[i]) / scaling.factor + smooth * inv[i];
      }
    }
  }
  return inv;
}

/** rows × out = (rows × in) · Wᵀ (+ bias), W in HF [out, in] layout. */
function linear(x: Float64Array, rows: number, w: FloatTensor, bias?: FloatTensor): Float64Array {
  const [outDim, inDim] = w.shape as [number, number];
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let sum = bias ? bias.data[o] : 0;
      const wRow = o * inDim;
      const xRow = r * inDim;
      for (let i = 0; i < inDim; i++) sum += x[xRow + i] * w.data[wRow + i];
      y[r * outDim + o] = sum;
    }
  }
  return y;
}

function rmsNorm(x: Float64Array, rows: number, weight: FloatTensor, eps: number): Float64Array {
  const dim = weight.shape[0];
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let sumSq = 0;
    for (let i = 0; i < dim; i++) sumSq += x[r * dim + i] ** 2;
    const scale = 1 / Math.sqrt(sumSq / dim + eps);
    for (let i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * scale * weight.data[i];
  }
  return y;
}

/** Rotates every head of `x` (rows × heads × headDim) in place, row r at position r (rotate_half layout). */
function applyRope(x: Float64Array, rows: number, heads: number, headDim: number, inv: Float64Array): void {
  const half = headDim / 2;
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const base = (r * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const cos = Math.cos(r * inv[i]);
        const sin = Math.sin(r * inv[i]);
        const a = x[base + i];
        const b = x[base + i + half];
        x[base + i] = a * cos - b * sin;
        x[base + i + half] = b * cos + a * sin;
      }
    }
  }
}

/** Causal grouped-query attention over all rows; returns rows × (heads · headDim). */
function attention(q: Float64Array, k: Float64Array, v: Float64Array, rows: number, config: ModelConfig): Float64Array {
  const { numHeads, numKvHeads, headDim } = config;
  const group = numHeads / numKvHeads;
  const out = new Float64Array(rows * numHeads * headDim);
  const scores = new Float64Array(rows);
  for (let t = 0; t < rows; t++) {
    for (let h = 0; h < numHeads; h++) {
      const kvHead = Math.floor(h / group);
      const qBase = (t * numHeads + h) * headDim;
      let max = -Infinity;
      for (let s = 0; s <= t; s++) {
        const kBase = (s * numKvHeads + kvHead) * headDim;
        let dot = 0;
        for (let i = 0; i < headDim; i++) dot += q[qBase + i] * k[kBase + i];
        scores[s] = dot / Math.sqrt(headDim);
        max = Math.max(max, scores[s]);
      }
      let total = 0;
      for (let s = 0; s <= t; s++) total += scores[s] = Math.exp(scores[s] - max);
      for (let s = 0; s <= t; s++) {
        const weight = scores[s] / total;
        const vBase = (s * numKvHeads + kvHead) * headDim;
        for (let i = 0; i < headDim; i++) out[qBase + i] += weight * v[vBase + i];
      }
    }
  }
  return out;
}

/** Logits for every position of `ids` (rows × vocab), computed from scratch. */
export function referenceLogits(config: ModelConfig, tensor: (name: string) => FloatTensor, ids: number[]): Float64Array[] {
  const rows = ids.length;
  const hidden = config.hiddenSize;
  const embed = tensor('model.embed_tokens.weight');
  let x = new Float64Array(rows * hidden);
  ids.forEach((id, r) => x.set(embed.data.subarray(id * hidden, (id + 1) * hidden), r * hidden));
  const inv = ropeInverseFrequencies(config);
  const add = (a: Float64Array, b: Float64Array) => a.map((value, i) => value + b[i]);

  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    const bias = (name: string) => (config.attentionBias ? tensor(`${p}.self_attn.${name}.bias`) : undefined);
    const h = rmsNorm(x, rows, tensor(`${p}.input_layernorm.weight`), config.rmsNormEps);
    const q = linear(h, rows, tensor(`${p}.self_attn.q_proj.weight`), bias('q_proj'));
    const k = linear(h, rows, tensor(`${p}.self_attn.k_proj.weight`), bias('k_proj'));
    const v = linear(h, rows, tensor(`${p}.self_attn.v_proj.weight`), bias('v_proj'));
    applyRope(q, rows, config.numHeads, config.headDim, inv);
    applyRope(k, rows, config.numKvHeads, config.headDim, inv);
    x = add(x, linear(attention(q, k, v, rows, config), rows, tensor(`${p}.self_attn.o_proj.weight`)));

    const h2 = rmsNorm(x, rows, tensor(`${p}.post_attention_layernorm.weight`), config.rmsNormEps);
    const gate = linear(h2, rows, tensor(`${p}.mlp.gate_proj.weight`));
    const up = linear(h2, rows, tensor(`${p}.mlp.up_proj.weight`));
    const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
    x = add(x, linear(act, rows, tensor(`${p}.mlp.down_proj.weight`)));
  }
  const final = rmsNorm(x, rows, tensor('model.norm.weight'), config.rmsNormEps);
  const head = tensor(config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  const logits = linear(final, rows, head);
  const vocab = head.shape[0];
  return Array.from({ length: rows }, (_, r) => logits.subarray(r * vocab, (r + 1) * vocab));
}

/** Greedy continuation of `ids` by `steps` tokens (recomputes everything each step; tiny models only). */
export function referenceGreedy(config: ModelConfig, tensor: (name: string) => FloatTensor, ids: number[], steps: number): number[] {
  const out = [...ids];
  for (let s = 0; s < steps; s++) {
    const logits = referenceLogits(config, tensor, out).at(-1)!;
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    out.push(best);
  }
  return out.slice(ids.length);
}
