// @module An independent float64 Llama-family forward pass (no ONNX): the numerical reference for the shard.
import type { LoadedModel, ModelConfig } from '@tessera/model-files';
import { perHeadRmsNorm, ReferenceMoeMlp } from './moe-fp64.ts';

type Matrix = { rows: number; cols: number; data: Float64Array };

function matrix(model: LoadedModel, name: string): Matrix {
  const t = model.tensor(name);
  return { rows: t.shape[0]!, cols: t.shape.length > 1 ? t.shape[1]! : 1, data: Float64Array.from(t.data) };
}

/** y = W x (+ b) with W in Hugging Face [out, in] layout. */
function linear(w: Matrix, x: Float64Array, bias?: Matrix): Float64Array {
  const y = new Float64Array(w.rows);
  for (let o = 0; o < w.rows; o++) {
    let s = bias ? bias.data[o]! : 0;
    const row = o * w.cols;
    for (let i = 0; i < w.cols; i++) s += w.data[row + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Matrix, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * w.data[i]!);
}

/** Inverse RoPE frequencies, written from the Hugging Face formulas (default, linear, llama3). */
function inverseFrequencies(c: ModelConfig): Float64Array {
  const half = c.headDim / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const base = Math.pow(c.ropeTheta, -(2 * i) / c.headDim);
    const s = c.ropeScaling;
    if (s === null) out[i] = base;
    else if (s.type === 'linear') out[i] = base / s.factor;
    else {
      const wavelen = (2 * Math.PI) / base;
      const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
      const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
      if (wavelen > lowWavelen) out[i] = base / s.factor;
      else if (wavelen < highWavelen) out[i] = base;
      else {
        const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        out[i] = ((1 - smooth) * base) / s.factor + smooth * base;
      }
    }
  }
  return out;
}

/** Rotates each head of `x` (numHeads × headDim, rotate_half pairing i ↔ i + D/2) in place. */
function applyRope(x: Float64Array, heads: number, d: number, pos: number, inv: Float64Array): void {
  const half = d / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const a = x[h * d + i]!;
      const b = x[h * d + half + i]!;
      const c = Math.cos(pos * inv[i]!);
      const s = Math.sin(pos * inv[i]!);
      x[h * d + i] = a * c - b * s;
      x[h * d + half + i] = b * c + a * s;
    }
  }
}

interface Layer {
  inNorm: Matrix; q: Matrix; k: Matrix; v: Matrix; qb?: Matrix; kb?: Matrix; vb?: Matrix;
  o: Matrix; postNorm: Matrix; gate?: Matrix; up?: Matrix; down?: Matrix;
  /** Sparse layers (moe-fp64.ts) and qk-norm (Qwen3-MoE). */
  moe?: ReferenceMoeMlp; qNorm?: Matrix; kNorm?: Matrix;
}

/** Per-sequence KV history of the reference: per layer, post-RoPE K rows and V rows. */
export class ReferenceCache {
  readonly k: Float64Array[][];
  readonly v: Float64Array[][];
  constructor(layers: number) {
    this.k = Array.from({ length: layers }, () => []);
    this.v = Array.from({ length: layers }, () => []);
  }
  get length(): number {
    return this.k[0]?.length ?? 0;
  }
}

export class ReferenceLlama {
  readonly config: ModelConfig;
  readonly #embed: Matrix;
  readonly #lmHead: Matrix;
  readonly #norm: Matrix;
  readonly #layers: Layer[];
  readonly #inv: Float64Array;

  constructor(model: LoadedModel) {
    const c = (this.config = model.config);
    this.#embed = matrix(model, 'model.embed_tokens.weight');
    this.#lmHead = c.tieWordEmbeddings ? this.#embed : matrix(model, 'lm_head.weight');
    this.#norm = matrix(model, 'model.norm.weight');
    this.#inv = inverseFrequencies(c);
    this.#layers = Array.from({ length: c.numLayers }, (_, l) => {
      const m = (n: string) => matrix(model, `model.layers.${l}.${n}`);
      return {
        inNorm: m('input_layernorm.weight'),
        q: m('self_attn.q_proj.weight'), k: m('self_attn.k_proj.weight'), v: m('self_attn.v_proj.weight'),
        ...(c.attentionBias ? { qb: m('self_attn.q_proj.bias'), kb: m('self_attn.k_proj.bias'), vb: m('self_attn.v_proj.bias') } : {}),
        o: m('self_attn.o_proj.weight'), postNorm: m('post_attention_layernorm.weight'),
        ...(c.qkNorm ? { qNorm: m('self_attn.q_norm.weight'), kNorm: m('self_attn.k_norm.weight') } : {}),
        ...(ReferenceMoeMlp.forLayer(model, l)
          ? { moe: ReferenceMoeMlp.forLayer(model, l)! }
          : { gate: m('mlp.gate_proj.weight'), up: m('mlp.up_proj.weight'), down: m('mlp.down_proj.weight') }),
      };
    });
  }

  /** Feeds `tokens` after what `cache` holds; returns the logits after each of them. */
  forward(tokens: number[], cache: ReferenceCache): Float64Array[] {
    return tokens.map((t) => this.#step(t, cache));
  }

  #step(token: number, cache: ReferenceCache): Float64Array {
    const c = this.config;
    const { hiddenSize: H, numHeads: nH, numKvHeads: kvH, headDim: D } = c;
    const pos = cache.length;
    const group = nH / kvH;
    let x = this.#embed.data.slice(token * H, (token + 1) * H);
    this.#layers.forEach((L, l) => {
      const xn = rmsNorm(x, L.inNorm, c.rmsNormEps);
      const q = linear(L.q, xn, L.qb);
      const k = linear(L.k, xn, L.kb);
      const v = linear(L.v, xn, L.vb);
      if (L.qNorm && L.kNorm) {
        perHeadRmsNorm(q, nH, L.qNorm.data, c.rmsNormEps);
        perHeadRmsNorm(k, kvH, L.kNorm.data, c.rmsNormEps);
      }
      applyRope(q, nH, D, pos, this.#inv);
      applyRope(k, kvH, D, pos, this.#inv);
      cache.k[l]!.push(k);
      cache.v[l]!.push(v);
      const keys = cache.k[l]!;
      const values = cache.v[l]!;
      const attn = new Float64Array(nH * D);
      for (let h = 0; h < nH; h++) {
        const kvHead = Math.floor(h / group);
        const scores = keys.map((kr) => {
          let s = 0;
          for (let i = 0; i < D; i++) s += q[h * D + i]! * kr[kvHead * D + i]!;
          return s / Math.sqrt(D);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const sum = exps.reduce((a, b) => a + b, 0);
        exps.forEach((e, j) => {
          for (let i = 0; i < D; i++) attn[h * D + i]! += (e / sum) * values[j]![kvHead * D + i]!;
        });
      }
      const o = linear(L.o, attn);
      x = x.map((val, i) => val + o[i]!);
      const xn2 = rmsNorm(x, L.postNorm, c.rmsNormEps);
      let down: Float64Array;
      if (L.moe) down = L.moe.forward(xn2);
      else {
        const gate = linear(L.gate!, xn2);
        const up = linear(L.up!, xn2);
        down = linear(L.down!, gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!));
      }
      x = x.map((val, i) => val + down[i]!);
    });
    return linear(this.#lmHead, rmsNorm(x, this.#norm, c.rmsNormEps));
  }
}
