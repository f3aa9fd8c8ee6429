// @module An independent float64 Llama-family forward pass (no ONNX), every supported family included: the numerical reference for the shard.
//
// Written from transformers' modelling files (src/transformers/models/<family>/), not from the graph builder:
// - Llama / Mistral / Qwen2: modeling_llama.py LlamaDecoderLayer.forward, LlamaAttention.forward with
//   eager_attention_forward (repeat_kv groups), LlamaMLP.forward, LlamaRMSNorm.forward; Qwen2Attention's q/k/v biases.
// - Qwen3: modeling_qwen3.py Qwen3Attention.forward (q_norm/k_norm per head before RoPE).
// - SmolLM3: modeling_smollm3.py SmolLM3Attention.forward (use_rope from no_rope_layers).
// - OLMo 2: modeling_olmo2.py Olmo2Attention.forward (q/k norm over the projection), Olmo2DecoderLayer.forward (post-norms).
// - Phi-3 / Phi-4: modeling_phi3.py Phi3Attention.forward (qkv_proj sliced at query_pos = heads·D, then kvH·D: the
//   loader splits the stored tensor the same way, packages/model-files/src/fused-projections.ts), Phi3MLP.forward
//   (gate, up = gate_up_proj(x).chunk(2)), apply_rotary_pos_emb (partial rotary: q_rot = q[..., :rotary_dim], q_pass
//   kept), Phi3RotaryEmbedding with ROPE_INIT_FUNCTIONS["longrope"].
// - Gemma 2: modeling_gemma2.py Gemma2RMSNorm.forward (1 + w), Gemma2Model.forward (× normalizer), Gemma2Attention.forward
//   (query_pre_attn_scalar, attn_logit_softcapping), Gemma2DecoderLayer.forward (sandwich norms), Gemma2MLP.forward,
//   Gemma2ForCausalLM.forward (final_logit_softcapping).
// - Gemma 3 (text): modeling_gemma3.py Gemma3Attention.forward (q_norm/k_norm per head), Gemma3TextModel.forward
//   (rotary_emb_local for sliding layers), Gemma3TextScaledWordEmbedding (embed_scale).
// - RoPE scaling: modeling_rope_utils.py (see inverseFrequencies); sparse MLPs: moe-fp64.ts.
import type { LoadedModel, ModelConfig } from '@tessera/model-files';
import { ReferenceMoeMlp } from './moe-fp64.ts';

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

/** RMSNorm; Gemma's (modeling_gemma2.py Gemma2RMSNorm.forward) scales by (1 + w) instead of w. */
function rmsNorm(x: Float64Array, w: Matrix, eps: number, onePlus = false): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * (onePlus ? 1 + w.data[i]! : w.data[i]!));
}

/** gelu_pytorch_tanh (transformers activations.py PytorchGELUTanh). */
function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/**
 * Inverse RoPE frequencies over the rotated dims and the cos/sin scale, written from transformers'
 * modeling_rope_utils.py: _compute_default_rope_parameters (dim = int(head_dim * partial_rotary_factor)),
 * _compute_linear_scaling_rope_parameters, _compute_llama3_parameters, _compute_yarn_parameters,
 * _compute_dynamic_ntk_parameters, _compute_longrope_parameters. Its long/short choice follows dynamic_rope_update's
 * longrope_frequency_update (long_factor once past original_max_position_embeddings), made once for the served context
 * (docs/models.md "Position encodings").
 */
function inverseFrequencies(c: ModelConfig): { inv: Float64Array; dim: number; attentionScaling: number } {
  const dim = c.rotaryDim ?? c.headDim;
  const half = dim / 2;
  const out = new Float64Array(half);
  const s = c.ropeScaling;
  let attentionScaling = 1;
  for (let i = 0; i < half; i++) {
    const base = c.ropeTheta ** (-(2 * i) / dim);
    if (s === null) out[i] = base;
    else if (s.type === 'linear') out[i] = base / s.factor;
    else if (s.type === 'yarn') {
      // _compute_yarn_parameters: find_correction_range(beta_fast, beta_slow) truncated, linear_ramp_factor between.
      const corr = (rot: number) => (dim * Math.log(s.originalMaxPositionEmbeddings / (rot * 2 * Math.PI))) / (2 * Math.log(c.ropeTheta));
      const low = Math.max(Math.floor(corr(s.betaFast)), 0);
      const high = Math.min(Math.ceil(corr(s.betaSlow)), dim - 1);
      const ramp = Math.min(1, Math.max(0, (i - low) / (high === low ? 0.001 : high - low)));
      const extrapolationFactor = 1 - ramp;
      out[i] = (base / s.factor) * (1 - extrapolationFactor) + base * extrapolationFactor;
      attentionScaling = s.attentionFactor;
    } else if (s.type === 'dynamic') {
      // _compute_dynamic_ntk_parameters at seq_len = original × factor (vLLM's static form of it).
      const seqLen = s.originalMaxPositionEmbeddings * s.factor;
      const scaledBase = c.ropeTheta * ((s.factor * seqLen) / s.originalMaxPositionEmbeddings - (s.factor - 1)) ** (dim / (dim - 2));
      out[i] = 1 / scaledBase ** ((2 * i) / dim);
    } else if (s.type === 'longrope') {
      // ext_factors: long_factor beyond the original context; Tessera serves maxPositionEmbeddings, so it is "beyond" when larger.
      const ext = c.maxPositionEmbeddings > s.originalMaxPositionEmbeddings ? s.longFactor : s.shortFactor;
      out[i] = 1 / (ext[i]! * c.ropeTheta ** ((2 * i) / dim));
      attentionScaling = s.attentionFactor;
    } else {
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
  return { inv: out, dim, attentionScaling };
}

/**
 * Rotates the first `rope.dim` dims of each head of `x` (numHeads × headDim, rotate_half pairing i ↔ i + dim/2) in place;
 * the rest pass (modeling_phi3.py apply_rotary_pos_emb: q_rot = q[..., :rotary_dim], q_pass = q[..., rotary_dim:]).
 */
function applyRope(x: Float64Array, heads: number, d: number, pos: number, rope: { inv: Float64Array; dim: number; attentionScaling: number }): void {
  const half = rope.dim / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const a = x[h * d + i]!;
      const b = x[h * d + half + i]!;
      const c = Math.cos(pos * rope.inv[i]!) * rope.attentionScaling;
      const s = Math.sin(pos * rope.inv[i]!) * rope.attentionScaling;
      x[h * d + i] = a * c - b * s;
      x[h * d + half + i] = b * c + a * s;
    }
  }
}

interface Layer {
  inNorm?: Matrix;
  q: Matrix;
  k: Matrix;
  v: Matrix;
  qb?: Matrix;
  kb?: Matrix;
  vb?: Matrix;
  o: Matrix;
  postNorm: Matrix;
  gate?: Matrix;
  up?: Matrix;
  down?: Matrix;
  /** Sparse (mixture-of-experts) MLP layers: moe-fp64.ts. */
  moe?: ReferenceMoeMlp;
  qNorm?: Matrix;
  kNorm?: Matrix;
  ffnOutNorm?: Matrix;
  preFfnNorm?: Matrix;
}

/** RMSNorm of each `width`-wide slice of x (a head, or the whole projection). */
function rmsNormSlices(x: Float64Array, w: Matrix, eps: number, width: number, onePlus: boolean): Float64Array {
  const out = new Float64Array(x.length);
  for (let s = 0; s < x.length; s += width) out.set(rmsNorm(x.subarray(s, s + width), w, eps, onePlus), s);
  return out;
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
  readonly #inv: ReturnType<typeof inverseFrequencies>;
  /** Gemma 3 (modeling_gemma3.py Gemma3TextModel.rotary_emb_local): the sliding layers' RoPE, base rope_local_base_freq, unscaled. */
  readonly #localInv: ReturnType<typeof inverseFrequencies>;

  constructor(model: LoadedModel) {
    const c = (this.config = model.config);
    this.#embed = matrix(model, 'model.embed_tokens.weight');
    this.#lmHead = c.tieWordEmbeddings ? this.#embed : matrix(model, 'lm_head.weight');
    this.#norm = matrix(model, 'model.norm.weight');
    this.#inv = inverseFrequencies(c);
    this.#localInv = c.localRopeTheta === undefined ? this.#inv : inverseFrequencies({ ...c, ropeTheta: c.localRopeTheta, ropeScaling: null });
    this.#layers = Array.from({ length: c.numLayers }, (_, l) => {
      const m = (n: string) => matrix(model, `model.layers.${l}.${n}`);
      const has = (n: string) => model.tensorNames().includes(`model.layers.${l}.${n}`);
      return {
        ...(has('input_layernorm.weight') ? { inNorm: m('input_layernorm.weight') } : {}),
        ...(has('self_attn.q_norm.weight') ? { qNorm: m('self_attn.q_norm.weight'), kNorm: m('self_attn.k_norm.weight') } : {}),
        ...(has('post_feedforward_layernorm.weight') ? { ffnOutNorm: m('post_feedforward_layernorm.weight') } : {}),
        ...(has('pre_feedforward_layernorm.weight') ? { preFfnNorm: m('pre_feedforward_layernorm.weight') } : {}),
        q: m('self_attn.q_proj.weight'),
        k: m('self_attn.k_proj.weight'),
        v: m('self_attn.v_proj.weight'),
        ...(c.attentionBias ? { qb: m('self_attn.q_proj.bias'), kb: m('self_attn.k_proj.bias'), vb: m('self_attn.v_proj.bias') } : {}),
        o: m('self_attn.o_proj.weight'),
        postNorm: m('post_attention_layernorm.weight'),
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
    const gemma = c.gemmaNorms === true;
    const norm = (v: Float64Array, w: Matrix) => rmsNorm(v, w, c.rmsNormEps, gemma);
    // Gemma2Model.forward: hidden_states * normalizer, normalizer = hidden_size ** 0.5 in the hidden dtype (float32 here).
    if (gemma) x = x.map((v) => v * Math.fround(Math.sqrt(H)));
    // OLMo 2 (transformers modeling_olmo2.py, Olmo2DecoderLayer.forward) has no input norms and norms the
    // attention and MLP outputs instead: x + post_attention_layernorm(attn(x)), x + post_feedforward_layernorm(mlp(x)).
    // Gemma 2/3 (Gemma2DecoderLayer.forward) norm both sides: input / post_attention, pre_ / post_feedforward.
    const post = c.normPlacement === 'post';
    const after = post || c.normPlacement === 'sandwich';
    // Gemma2Attention: scaling = query_pre_attn_scalar ** -0.5, scores soft-capped (tanh) before the mask.
    const scale = 1 / Math.sqrt(c.queryPreAttnScalar ?? D);
    this.#layers.forEach((L, l) => {
      const xn = post ? x : norm(x, L.inNorm!);
      let q = linear(L.q, xn, L.qb);
      let k = linear(L.k, xn, L.kb);
      const v = linear(L.v, xn, L.vb);
      // Qwen3 (modeling_qwen3.py, Qwen3Attention.forward): q_norm/k_norm on each head's D values, before RoPE.
      // OLMo 2 (modeling_olmo2.py, Olmo2Attention.forward): q_norm/k_norm over the whole q / k projection.
      if (c.qkNorm) {
        q = rmsNormSlices(q, L.qNorm!, c.rmsNormEps, c.qkNorm === 'head' ? D : nH * D, gemma);
        k = rmsNormSlices(k, L.kNorm!, c.rmsNormEps, c.qkNorm === 'head' ? D : kvH * D, gemma);
      }
      // Mistral: every layer slides; Gemma: layer_types[l] == "sliding_attention". Keys with pos − j ≥ window are masked.
      const sliding = c.slidingWindow !== null && (c.slidingLayers?.[l] ?? true);
      const inv = sliding ? this.#localInv : this.#inv;
      // SmolLM3 (modeling_smollm3.py, SmolLM3Attention.forward): RoPE only where config.no_rope_layers[l] is 1.
      if (c.ropeLayers?.[l] ?? true) {
        applyRope(q, nH, D, pos, inv);
        applyRope(k, kvH, D, pos, inv);
      }
      cache.k[l]!.push(k);
      cache.v[l]!.push(v);
      const keys = cache.k[l]!;
      const values = cache.v[l]!;
      const attn = new Float64Array(nH * D);
      for (let h = 0; h < nH; h++) {
        const kvHead = Math.floor(h / group);
        const scores = keys.map((kr, j) => {
          if (sliding && pos - j >= c.slidingWindow!) return -Infinity;
          let s = 0;
          for (let i = 0; i < D; i++) s += q[h * D + i]! * kr[kvHead * D + i]!;
          s *= scale;
          return c.attnLogitSoftcap === undefined ? s : Math.tanh(s / c.attnLogitSoftcap) * c.attnLogitSoftcap;
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const sum = exps.reduce((a, b) => a + b, 0);
        exps.forEach((e, j) => {
          for (let i = 0; i < D; i++) attn[h * D + i]! += (e / sum) * values[j]![kvHead * D + i]!;
        });
      }
      const oRaw = linear(L.o, attn);
      const o = after ? norm(oRaw, L.postNorm) : oRaw;
      x = x.map((val, i) => val + o[i]!);
      const xn2 = post ? x : norm(x, L.preFfnNorm ?? L.postNorm);
      let downRaw: Float64Array;
      if (L.moe) downRaw = L.moe.forward(xn2);
      else {
        const gate = linear(L.gate!, xn2);
        const up = linear(L.up!, xn2);
        // Gemma2MLP.forward: gelu_pytorch_tanh(gate) * up; LlamaMLP.forward / Phi3MLP.forward: SiLU(gate) * up.
        const act = gate.map((g, i) => (gemma ? geluTanh(g) : g / (1 + Math.exp(-g))) * up[i]!);
        downRaw = linear(L.down!, act);
      }
      const down = after ? norm(downRaw, L.ffnOutNorm!) : downRaw;
      x = x.map((val, i) => val + down[i]!);
    });
    const logits = linear(this.#lmHead, norm(x, this.#norm));
    // Gemma2ForCausalLM.forward: logits = tanh(logits / final_logit_softcapping) * final_logit_softcapping.
    const cap = c.finalLogitSoftcap;
    return cap === undefined ? logits : logits.map((v) => Math.tanh(v / cap) * cap);
  }
}
