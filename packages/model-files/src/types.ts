// @module The normalised model description every loader (HF directory, GGUF, generated) produces.

import type { BlockAffine } from './block-affine.ts';

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    }
  | {
      /**
       * YaRN (transformers _compute_yarn_parameters, vLLM YaRNScalingRotaryEmbedding): frequencies ramp from
       * extrapolated to interpolated between the beta_fast and beta_slow correction dims; cos/sin × attentionFactor.
       */
      type: 'yarn';
      factor: number;
      originalMaxPositionEmbeddings: number;
      betaFast: number;
      betaSlow: number;
      attentionFactor: number;
    }
  | {
      /**
       * Dynamic NTK, served statically as vLLM does: the base is raised once for a context of
       * original × factor, base · (factor² − factor + 1)^(dim / (dim − 2)).
       */
      type: 'dynamic';
      factor: number;
      originalMaxPositionEmbeddings: number;
    }
  | {
      /**
       * Phi-3's LongRoPE: per-frequency divisors, short ones within the original context and long ones
       * beyond, and cos/sin scaled by `attentionFactor`. Tessera picks one set for the whole served context,
       * as llama.cpp does: the long factors when maxPositionEmbeddings exceeds the original context.
       */
      type: 'longrope';
      shortFactor: number[];
      longFactor: number[];
      originalMaxPositionEmbeddings: number;
      attentionFactor: number;
    };

/** Architecture-independent hyper-parameters of a Llama-family decoder. */
export interface ModelConfig {
  /** As in config.json `architectures[0]` (families/families.ts lists what each adds to the Llama block). */
  architecture: 'LlamaForCausalLM' | 'MistralForCausalLM' | 'Qwen2ForCausalLM' | FamilyArchitecture;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  maxPositionEmbeddings: number;
  /** lm_head shares the embedding matrix (no `lm_head.weight` tensor). */
  tieWordEmbeddings: boolean;
  /** Q/K/V projections have biases (Qwen2). */
  attentionBias: boolean;
  /** Attention window (keys with q_pos − k_pos ≥ window are masked) of every layer, or of `slidingLayers`; null: none. */
  slidingWindow: number | null;
  /** RMSNorm of q and k before RoPE: per head with a [headDim] weight (Qwen3), or over the whole projection (OLMo 2). Absent: none. */
  qkNorm?: 'head' | 'projection';
  /** Per layer, whether it applies RoPE (SmolLM3's NoPE layers are false). Absent: every layer does. */
  ropeLayers?: boolean[];
  /** Leading dims of each head that RoPE rotates (Phi-3/4 `partial_rotary_factor`). Absent: the whole head. */
  rotaryDim?: number;
  /**
   * 'post' (OLMo 2): no input norms; attention and MLP outputs are normed before the residual add.
   * 'sandwich' (Gemma 2/3): norms before and after both (input, post_attention, pre_ and post_feedforward). Absent: 'pre'.
   */
  normPlacement?: 'pre' | 'post' | 'sandwich';
  /** Gemma: every RMSNorm scales by (1 + w), the token embeddings by √hidden, and the MLP gates with GeLU (tanh). */
  gemmaNorms?: boolean;
  /** Scores are q·k / √queryPreAttnScalar (Gemma's `query_pre_attn_scalar`). Absent: √headDim. */
  queryPreAttnScalar?: number;
  /** Gemma 2 soft-capping: cap · tanh(x / cap) on attention scores and on the final logits. */
  attnLogitSoftcap?: number;
  finalLogitSoftcap?: number;
  /** Per layer, whether `slidingWindow` applies (Gemma's local layers). Absent: every layer when slidingWindow is set. */
  slidingLayers?: boolean[];
  /** RoPE base of the sliding layers, which also take no rope_scaling (Gemma 3's rope_local_base_freq). */
  localRopeTheta?: number;
  /** Mixture-of-experts MLP (Mixtral, Qwen3-MoE); absent for dense models. */
  moe?: MoeConfig;
}

/** A sparse MLP: a router picks `topK` of `numExperts` SwiGLU experts per token (moe-config.ts). */
export interface MoeConfig {
  numExperts: number;
  topK: number;
  /** Intermediate size of one expert (Mixtral: intermediate_size; Qwen3-MoE: moe_intermediate_size). */
  expertIntermediateSize: number;
  /**
   * After softmax over all router logits and top-k: divide the k weights by their sum (Mixtral always;
   * Qwen3-MoE when norm_topk_prob). Without it the k softmax probabilities are used as they are.
   */
  normTopK: boolean;
  /** Layers whose MLP is the dense one (Qwen3-MoE mlp_only_layers / decoder_sparse_step); sorted. */
  denseLayers: number[];
}

/** Architectures added to the Llama block by families/families.ts. */
export type FamilyArchitecture =
  | 'Qwen3ForCausalLM'
  | 'SmolLM3ForCausalLM'
  | 'Olmo2ForCausalLM'
  | 'Phi3ForCausalLM'
  | 'Gemma2ForCausalLM'
  | 'Gemma3ForCausalLM'
  | 'MixtralForCausalLM'
  | 'Qwen3MoeForCausalLM';

/**
 * A tensor as the graph builder wants it: float32, row-major, HF naming and HF layout
 * (Linear weights are [out, in]; Q/K rows in rotate_half order — GGUF loaders un-permute).
 */
export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

/** Tokenizer material in Hugging Face's file shapes (GGUF loaders synthesise them). */
export interface TokenizerFiles {
  /** Parsed tokenizer.json (what @huggingface/tokenizers' Tokenizer takes). */
  tokenizerJson: Record<string, unknown>;
  /** Parsed tokenizer_config.json (chat_template, bos_token, eos_token, add_bos_token, …), {} if none. */
  tokenizerConfig: Record<string, unknown>;
  /** The chat template (tokenizer_config.json's, or chat_template.jinja), or null if the model has none. */
  chatTemplate: string | null;
}

/** generation_config.json, normalised; every field optional. */
export interface GenerationDefaults {
  bosTokenId?: number;
  eosTokenIds?: number[];
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  doSample?: boolean;
  maxNewTokens?: number;
}

export interface LoadedModel {
  /** Path given by the user (directory or .gguf file). */
  path: string;
  /** 'hf' | 'gguf'. */
  format: 'hf' | 'gguf';
  config: ModelConfig;
  /** Stable content digest (sha256 hex of the weight files' identity) for graph caching. */
  digest: string;
  /** Canonical (HF) tensor names present. */
  tensorNames(): string[];
  /** A tensor by canonical HF name, converted to float32 (quantized types dequantised). Throws naming the tensor if absent. */
  tensor(name: string): FloatTensor;
  /**
   * The tensor kept quantized, in HF layout (Q/K rows already un-permuted), when the file stores it in a
   * block format the graph executes directly (GGUF Q4_0…Q6_K, IQ4_NL/XS; GPTQ/AWQ); null for float tensors.
   * Absent on loaders that never quantize.
   */
  quantized?(name: string): BlockAffine | null;
  /** Storage type of a tensor as the file holds it ("F32", "BF16", "Q4_K", "GPTQ-4bit", …), for logs and /info. */
  tensorType?(name: string): string;
  tokenizer: TokenizerFiles;
  generation: GenerationDefaults;
  /** BOS id and EOS ids resolved from config / generation_config / tokenizer config. */
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** Things that loaded but may behave differently from the original (e.g. an unknown GGUF pre-tokenizer). */
  warnings?: string[];
}

/** A clear, user-facing loading error that names the file and the field. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}
