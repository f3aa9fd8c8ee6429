// @module The decoder families Tessera loads: their names (HF architecture, model_type, GGUF arch) and what each adds to the Llama block.
//
// Sources, per family: transformers' modeling_<family>.py / configuration_<family>.py, and llama.cpp's
// conversion/<family>.py (GGUF names and metadata) and src/models/<family>.cpp (the graph it runs).
import type { GgufMetadata } from '../gguf-config.ts';
import type { JsonFields } from '../hf-config.ts';
import { ggufMoe, parseHfMoe } from '../moe-config.ts';
import type { ModelConfig } from '../types.ts';

type Architecture = ModelConfig['architecture'];

/** The structural fields a family sets on top of the Llama block's (and the sliding window where it differs). */
export type FamilyFeatures = Partial<
  Pick<
    ModelConfig,
    | 'qkNorm'
    | 'ropeLayers'
    | 'normPlacement'
    | 'gemmaNorms'
    | 'queryPreAttnScalar'
    | 'attnLogitSoftcap'
    | 'finalLogitSoftcap'
    | 'slidingWindow'
    | 'slidingLayers'
    | 'localRopeTheta'
    | 'moe'
  >
>;

export interface Family {
  architecture: Architecture;
  /** config.json `model_type`. */
  modelType: string;
  /** GGUF `general.architecture` (also the prefix of its hyper-parameter keys). */
  ggufArch: string;
  /** transformers' default `max_position_embeddings` when config.json omits it. */
  defaultMaxPositions: number;
  /**
   * llama.cpp stores Q/K rows permuted for archs it ropes as pairs of adjacent values (LLAMA_ROPE_TYPE_NORM:
   * llama, smollm3); NEOX archs (qwen2, qwen3, olmo2) keep Hugging Face's rotate_half order.
   */
  ggufPermutesQk: boolean;
  /** The checkpoint stores q/k/v as one qkv_proj and gate/up as one gate_up_proj (split at load: fused-projections.ts). */
  fusedProjections?: boolean;
  /** Q/K/V biases: always (Qwen2), or as config.json's `attention_bias` says (default false). */
  attentionBias: 'always' | 'config';
  /** The MLP's activation: SiLU (SwiGLU), or GeLU-tanh (Gemma's GeGLU; `gelu_pytorch_tanh`). */
  activation?: 'gelu_tanh';
  /** What llama.cpp's converter adds to every `*norm.weight` (Gemma stores 1 + w): the loader takes it off again. */
  ggufNormShift?: number;
  /** Family structure read from config.json, given the Llama fields already read. */
  hfFeatures(fields: JsonFields, base: ModelConfig): FamilyFeatures;
  /** Family structure read from GGUF metadata (what llama.cpp's converter writes and its loader reads). */
  ggufFeatures(meta: GgufMetadata, base: ModelConfig): FamilyFeatures;
}

const none = (): FamilyFeatures => ({});

/** SmolLM3 (llama.cpp src/models/smollm3.cpp): every 4th layer has no RoPE, a fixed step in GGUF. */
export const SMOLLM3_NO_ROPE_STEP = 4;

/** transformers SmolLM3Config: `no_rope_layers[l]` is 1 where layer l uses RoPE; the default is every layer but each `no_rope_layer_interval`-th. */
function smollm3RopeLayers(fields: JsonFields, { numLayers }: ModelConfig): FamilyFeatures {
  const raw = fields.json['no_rope_layers'];
  if (raw === undefined || raw === null) {
    const interval = fields.positiveInt('no_rope_layer_interval', SMOLLM3_NO_ROPE_STEP);
    return { ropeLayers: Array.from({ length: numLayers }, (_, l) => (l + 1) % interval !== 0) };
  }
  if (!Array.isArray(raw) || raw.length !== numLayers || raw.some((v) => v !== 0 && v !== 1)) {
    fields.fail('no_rope_layers', `must be a list of ${numLayers} values 0 or 1 (got ${JSON.stringify(raw).slice(0, 80)})`);
  }
  return { ropeLayers: raw.map((v) => v === 1) };
}

const GEMMA_COMMON = { normPlacement: 'sandwich', gemmaNorms: true } as const;

/** A soft-cap from config.json: the field's number, null for none, or `fallback` when absent. */
function optionalCap(fields: JsonFields, field: string, key: 'attnLogitSoftcap' | 'finalLogitSoftcap', fallback: number | undefined): FamilyFeatures {
  const value = fields.json[field] === null ? undefined : fields.has(field) ? fields.number(field) : fallback;
  return value === undefined ? {} : { [key]: value };
}

/** `layer_types` (transformers ≥ 4.53) when present, else every `period`-th layer global (Gemma 2: odd layers; Gemma 3: each 6th). */
function hfSlidingLayers(fields: JsonFields, numLayers: number, period: number): boolean[] {
  const types = fields.json['layer_types'];
  if (types === undefined || types === null) return periodicSlidingLayers(numLayers, period);
  if (!Array.isArray(types) || types.length !== numLayers || types.some((t) => t !== 'sliding_attention' && t !== 'full_attention')) {
    fields.fail('layer_types', `must list ${numLayers} of "sliding_attention" / "full_attention"`);
  }
  return types.map((t) => t === 'sliding_attention');
}

/** llama.cpp's set_swa_pattern(period): in each run of `period` layers, all but the last slide. */
export function periodicSlidingLayers(numLayers: number, period: number): boolean[] {
  return Array.from({ length: numLayers }, (_, l) => l % period < period - 1);
}

/** llama.cpp derives Gemma's score scale from the size (gemma_pytorch config.py): hidden/heads for the 27B (46 / 62 layers), head_dim otherwise. */
export function llamaCppQueryPreAttnScalar(base: ModelConfig): number {
  const layersOf27b = base.architecture === 'Gemma2ForCausalLM' ? 46 : 62;
  return base.numLayers === layersOf27b ? base.hiddenSize / base.numHeads : base.headDim;
}

export const FAMILIES: readonly Family[] = [
  {
    architecture: 'LlamaForCausalLM',
    modelType: 'llama',
    ggufArch: 'llama',
    defaultMaxPositions: 2048,
    ggufPermutesQk: true,
    attentionBias: 'config',
    hfFeatures: none,
    ggufFeatures: none,
  },
  // Mistral GGUFs are written as arch "llama" by llama.cpp; loading one gives LlamaForCausalLM, the same graph.
  {
    architecture: 'MistralForCausalLM',
    modelType: 'mistral',
    ggufArch: 'llama',
    defaultMaxPositions: 4096 * 32,
    ggufPermutesQk: true,
    attentionBias: 'config',
    hfFeatures: none,
    ggufFeatures: none,
  },
  {
    architecture: 'Qwen2ForCausalLM',
    modelType: 'qwen2',
    ggufArch: 'qwen2',
    defaultMaxPositions: 32768,
    ggufPermutesQk: false,
    attentionBias: 'always',
    hfFeatures: none,
    ggufFeatures: none,
  },
  // modeling_qwen3.py Qwen3Attention: q_norm/k_norm = Qwen3RMSNorm(head_dim) on each head, before RoPE.
  {
    architecture: 'Qwen3ForCausalLM',
    modelType: 'qwen3',
    ggufArch: 'qwen3',
    defaultMaxPositions: 32768,
    ggufPermutesQk: false,
    attentionBias: 'config',
    hfFeatures: () => ({ qkNorm: 'head' }),
    ggufFeatures: () => ({ qkNorm: 'head' }),
  },
  // modeling_smollm3.py SmolLM3Attention: `self.use_rope = config.no_rope_layers[layer_idx]`.
  {
    architecture: 'SmolLM3ForCausalLM',
    modelType: 'smollm3',
    ggufArch: 'smollm3',
    defaultMaxPositions: 32768,
    ggufPermutesQk: true,
    attentionBias: 'config',
    hfFeatures: smollm3RopeLayers,
    ggufFeatures: (_meta, { numLayers }) => ({ ropeLayers: Array.from({ length: numLayers }, (_, l) => (l + 1) % SMOLLM3_NO_ROPE_STEP !== 0) }),
  },
  // modeling_olmo2.py Olmo2Attention: q_norm/k_norm = Olmo2RMSNorm(heads·head_dim) over the whole projection;
  // Olmo2DecoderLayer: x + post_attention_layernorm(attn(x)), then x + post_feedforward_layernorm(mlp(x)).
  {
    architecture: 'Olmo2ForCausalLM',
    modelType: 'olmo2',
    ggufArch: 'olmo2',
    defaultMaxPositions: 2048,
    ggufPermutesQk: false,
    attentionBias: 'config',
    hfFeatures: () => ({ qkNorm: 'projection', normPlacement: 'post' }),
    ggufFeatures: () => ({ qkNorm: 'projection', normPlacement: 'post' }),
  },
  // modeling_phi3.py: fused qkv_proj / gate_up_proj, partial rotary (Phi-4-mini), LongRoPE (the 128k models).
  // llama.cpp stores them fused too (attn_qkv, and ffn_up holding gate then up).
  {
    architecture: 'Phi3ForCausalLM',
    modelType: 'phi3',
    ggufArch: 'phi3',
    defaultMaxPositions: 4096,
    ggufPermutesQk: false,
    fusedProjections: true,
    attentionBias: 'config',
    hfFeatures: none,
    ggufFeatures: none,
  },
  // modeling_gemma2.py: GeGLU, (1 + w) norms, √hidden embeddings, sandwich norms, soft-capped scores and logits,
  // sliding window on even layers. llama.cpp src/models/gemma2.cpp; conversion/gemma.py stores norms as 1 + w.
  {
    architecture: 'Gemma2ForCausalLM',
    modelType: 'gemma2',
    ggufArch: 'gemma2',
    defaultMaxPositions: 8192,
    ggufPermutesQk: false,
    attentionBias: 'config',
    activation: 'gelu_tanh',
    ggufNormShift: 1,
    hfFeatures: (fields, base) => ({
      ...GEMMA_COMMON,
      queryPreAttnScalar: fields.number('query_pre_attn_scalar', 256),
      ...optionalCap(fields, 'attn_logit_softcapping', 'attnLogitSoftcap', 50),
      ...optionalCap(fields, 'final_logit_softcapping', 'finalLogitSoftcap', 30),
      slidingWindow: fields.positiveInt('sliding_window', 4096),
      slidingLayers: hfSlidingLayers(fields, base.numLayers, 2),
    }),
    ggufFeatures: (meta, base) => ({
      ...GEMMA_COMMON,
      queryPreAttnScalar: llamaCppQueryPreAttnScalar(base),
      attnLogitSoftcap: meta.number('gemma2.attn_logit_softcapping', 50),
      finalLogitSoftcap: meta.number('gemma2.final_logit_softcapping', 30),
      slidingWindow: meta.positiveInt('gemma2.attention.sliding_window', 4096),
      slidingLayers: periodicSlidingLayers(base.numLayers, meta.positiveInt('gemma2.attention.sliding_window_pattern', 2)),
    }),
  },
  // modeling_gemma3.py (Gemma3ForCausalLM, model_type gemma3_text): Gemma 2's block without soft-capping, plus
  // per-head q/k norms and a separate RoPE base (rope_local_base_freq, unscaled) for the sliding layers.
  {
    architecture: 'Gemma3ForCausalLM',
    modelType: 'gemma3_text',
    ggufArch: 'gemma3',
    defaultMaxPositions: 131072,
    ggufPermutesQk: false,
    attentionBias: 'config',
    activation: 'gelu_tanh',
    ggufNormShift: 1,
    hfFeatures: (fields, base) => ({
      ...GEMMA_COMMON,
      qkNorm: 'head',
      queryPreAttnScalar: fields.number('query_pre_attn_scalar', 256),
      ...optionalCap(fields, 'final_logit_softcapping', 'finalLogitSoftcap', undefined),
      localRopeTheta: fields.number('rope_local_base_freq', 10000),
      slidingWindow: fields.positiveInt('sliding_window', 4096),
      slidingLayers: hfSlidingLayers(fields, base.numLayers, fields.positiveInt('sliding_window_pattern', 6)),
    }),
    ggufFeatures: (meta, base) => ({
      ...GEMMA_COMMON,
      qkNorm: 'head',
      queryPreAttnScalar: llamaCppQueryPreAttnScalar(base),
      ...(meta.number('gemma3.final_logit_softcapping', 0) > 0 ? { finalLogitSoftcap: meta.number('gemma3.final_logit_softcapping') } : {}),
      localRopeTheta: meta.number('gemma3.rope.freq_base_swa', 10000),
      ...(meta.get('gemma3.attention.sliding_window') !== undefined
        ? {
            slidingWindow: meta.positiveInt('gemma3.attention.sliding_window'),
            slidingLayers: periodicSlidingLayers(base.numLayers, meta.positiveInt('gemma3.attention.sliding_window_pattern', 6)),
          }
        : {}),
    }),
  },
  // Mixture of experts (moe-config.ts; the sparse MLP graph is services/shard/src/graph/moe.ts).
  // modeling_mixtral.py: Mistral's attention, MixtralSparseMoeBlock. llama.cpp writes it as arch `llama` with experts.
  {
    architecture: 'MixtralForCausalLM',
    modelType: 'mixtral',
    ggufArch: 'llama',
    defaultMaxPositions: 4096 * 32,
    ggufPermutesQk: true,
    attentionBias: 'config',
    hfFeatures: (fields, base) => withMoe(parseHfMoe(fields, base.architecture, base.numLayers)),
    ggufFeatures: (meta, base) => withMoe(ggufMoe(meta, 'llama', base.intermediateSize)),
  },
  // modeling_qwen3_moe.py: Qwen3's attention (per-head q/k norm), Qwen3MoeSparseMoeBlock (norm_topk_prob), dense mlp_only_layers.
  {
    architecture: 'Qwen3MoeForCausalLM',
    modelType: 'qwen3_moe',
    ggufArch: 'qwen3moe',
    defaultMaxPositions: 32768,
    ggufPermutesQk: false,
    attentionBias: 'config',
    hfFeatures: (fields, base) => ({ qkNorm: 'head', ...withMoe(parseHfMoe(fields, base.architecture, base.numLayers)) }),
    ggufFeatures: (meta, base) => ({ qkNorm: 'head', ...withMoe(ggufMoe(meta, 'qwen3moe', base.intermediateSize)) }),
  },
];

function withMoe(moe: ModelConfig['moe']): FamilyFeatures {
  return moe ? { moe } : {};
}

export const SUPPORTED_ARCHITECTURES: readonly Architecture[] = FAMILIES.map((f) => f.architecture);
/** GGUF archs with a loader; `llama` resolves to LlamaForCausalLM. */
export const SUPPORTED_GGUF_ARCHITECTURES: readonly string[] = [...new Set(FAMILIES.map((f) => f.ggufArch))];

export function familyOf(architecture: Architecture): Family {
  const family = FAMILIES.find((f) => f.architecture === architecture);
  if (!family) throw new Error(`no family for ${architecture}`);
  return family;
}

export function familyByModelType(modelType: string): Family | undefined {
  return FAMILIES.find((f) => f.modelType === modelType);
}

export function familyByGgufArch(arch: string): Family | undefined {
  return FAMILIES.find((f) => f.ggufArch === arch);
}

/** One line per supported architecture and what it adds, for /info-style listings and docs. */
export function describeFamily(c: ModelConfig): string[] {
  const features: string[] = [];
  if (c.attentionBias) features.push('qkv-bias');
  if (c.qkNorm) features.push(`qk-norm(${c.qkNorm})`);
  if (c.ropeLayers?.some((r) => !r)) features.push('nope-layers');
  if (c.normPlacement === 'post') features.push('post-norms');
  if (c.normPlacement === 'sandwich') features.push('sandwich-norms');
  if (c.gemmaNorms) features.push('gemma-norms-geglu');
  if (c.attnLogitSoftcap !== undefined || c.finalLogitSoftcap !== undefined) features.push('soft-capping');
  if (c.slidingWindow !== null)
    features.push(
      c.slidingLayers
        ? `sliding-window(${c.slidingWindow}, ${c.slidingLayers.filter(Boolean).length}/${c.numLayers} layers)`
        : `sliding-window(${c.slidingWindow})`,
    );
  if (c.localRopeTheta !== undefined) features.push('local-rope-base');
  if (c.rotaryDim !== undefined) features.push(`partial-rotary(${c.rotaryDim})`);
  if (c.ropeScaling) features.push(`rope-scaling(${c.ropeScaling.type})`);
  if (c.moe) features.push(`moe(${c.moe.numExperts} experts, top-${c.moe.topK})`);
  return features;
}
