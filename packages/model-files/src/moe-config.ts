// @module Mixture-of-experts: config.json / GGUF keys → MoeConfig, which layers are sparse, and the experts' canonical tensor names.
//
// Sources: transformers' MixtralConfig / Qwen3MoeConfig (models/{mixtral,qwen3_moe}/configuration_*.py) and
// modeling_*.py (tensor names, routing); llama.cpp src/llama-arch.cpp (`%s.expert_count`, `%s.expert_used_count`,
// `%s.expert_feed_forward_length`, `blk.%d.ffn_gate_inp`, `blk.%d.ffn_{gate,up,down}_exps`) and
// src/models/{llama,qwen3moe}.cpp (both call build_moe_ffn with softmax gating and norm_w = true).

import type { GgufMetadata } from './gguf-config.ts';
import type { JsonFields } from './hf-config.ts';
import type { ModelConfig, MoeConfig } from './types.ts';

export const MOE_ARCHITECTURES = ['MixtralForCausalLM', 'Qwen3MoeForCausalLM'] as const;

/** The MoE part of a config.json, or undefined for a dense architecture. */
export function parseHfMoe(fields: JsonFields, architecture: ModelConfig['architecture'], numLayers: number): MoeConfig | undefined {
  if (architecture === 'MixtralForCausalLM') {
    // MixtralSparseMoeBlock: softmax over all experts, top-k, then always renormalised over the k.
    const moe = {
      numExperts: fields.positiveInt('num_local_experts', 8),
      topK: fields.positiveInt('num_experts_per_tok', 2),
      expertIntermediateSize: fields.positiveInt('intermediate_size'),
      normTopK: true,
      denseLayers: [],
    };
    return checked(fields, moe, 'num_local_experts');
  }
  if (architecture === 'Qwen3MoeForCausalLM') {
    const step = fields.positiveInt('decoder_sparse_step', 1);
    const mlpOnly = fields.json['mlp_only_layers'] ?? [];
    if (!Array.isArray(mlpOnly) || mlpOnly.some((l) => !Number.isInteger(l) || l < 0 || l >= numLayers)) {
      fields.fail('mlp_only_layers', `must be a list of layer indices below ${numLayers}`);
    }
    // Qwen3MoeDecoderLayer: sparse when not in mlp_only_layers and (layer + 1) % decoder_sparse_step == 0.
    const denseLayers = Array.from({ length: numLayers }, (_, l) => l).filter((l) => (mlpOnly as number[]).includes(l) || (l + 1) % step !== 0);
    const moe = {
      numExperts: fields.positiveInt('num_experts', 128),
      topK: fields.positiveInt('num_experts_per_tok', 8),
      expertIntermediateSize: fields.positiveInt('moe_intermediate_size'),
      normTopK: fields.boolean('norm_topk_prob', false),
      denseLayers,
    };
    return checked(fields, moe, 'num_experts');
  }
  return undefined;
}

function checked(fields: JsonFields, moe: MoeConfig, countField: string): MoeConfig {
  if (moe.topK > moe.numExperts) fields.fail('num_experts_per_tok', `(${moe.topK}) exceeds ${countField} (${moe.numExperts})`);
  return moe;
}

/**
 * The MoE part of GGUF metadata: `<arch>.expert_count` > 0 makes a `llama` file Mixtral; `qwen3moe` needs it.
 * llama.cpp renormalises the top-k weights for both (norm_w = true), so `normTopK` is true; every layer is sparse.
 */
export function ggufMoe(meta: GgufMetadata, arch: string, denseIntermediate: number): MoeConfig | undefined {
  const count = meta.get(`${arch}.expert_count`);
  if (count === undefined || count === 0) {
    if (arch === 'qwen3moe') meta.fail(`${arch}.expert_count`, 'is missing (a qwen3moe file has experts)');
    return undefined;
  }
  const numExperts = meta.positiveInt(`${arch}.expert_count`);
  const topK = meta.positiveInt(`${arch}.expert_used_count`);
  if (topK > numExperts) meta.fail(`${arch}.expert_used_count`, `(${topK}) exceeds ${arch}.expert_count (${numExperts})`);
  const gating = meta.get(`${arch}.expert_gating_func`);
  if (gating !== undefined && gating !== 1) meta.fail(`${arch}.expert_gating_func`, `value ${String(gating)} is not supported (supported: 1, softmax)`);
  const scale = meta.get(`${arch}.expert_weights_scale`);
  if (scale !== undefined && scale !== 0 && scale !== 1) meta.fail(`${arch}.expert_weights_scale`, `value ${String(scale)} is not supported (supported: 1)`);
  // Mixtral's experts are `feed_forward_length` wide; qwen3moe's `expert_feed_forward_length`.
  const expertIntermediateSize = meta.positiveInt(`${arch}.expert_feed_forward_length`, arch === 'qwen3moe' ? undefined : denseIntermediate);
  return { numExperts, topK, expertIntermediateSize, normTopK: meta.get(`${arch}.expert_weights_norm`) !== false, denseLayers: [] };
}

/** Whether layer `l` has the sparse (MoE) MLP. */
export function isSparseLayer(config: ModelConfig, l: number): boolean {
  return config.moe !== undefined && !config.moe.denseLayers.includes(l);
}

/** Canonical (HF) names of a sparse layer's router and experts, in the family's own naming. */
export interface MoeTensorNames {
  router: string;
  gate(expert: number): string;
  up(expert: number): string;
  down(expert: number): string;
}

export function moeTensorNames(config: ModelConfig, layer: number): MoeTensorNames {
  if (config.architecture === 'MixtralForCausalLM') {
    // MixtralBlockSparseTop2MLP: w1 = gate, w3 = up, w2 = down.
    const p = `model.layers.${layer}.block_sparse_moe.`;
    return {
      router: `${p}gate.weight`,
      gate: (e) => `${p}experts.${e}.w1.weight`,
      up: (e) => `${p}experts.${e}.w3.weight`,
      down: (e) => `${p}experts.${e}.w2.weight`,
    };
  }
  const p = `model.layers.${layer}.mlp.`;
  return {
    router: `${p}gate.weight`,
    gate: (e) => `${p}experts.${e}.gate_proj.weight`,
    up: (e) => `${p}experts.${e}.up_proj.weight`,
    down: (e) => `${p}experts.${e}.down_proj.weight`,
  };
}

/** name → shape of a sparse layer's tensors (router [E, H], gate/up [F, H], down [H, F] per expert). */
export function moeTensorShapes(config: ModelConfig, layer: number): [string, number[]][] {
  const { numExperts: E, expertIntermediateSize: F } = config.moe!;
  const H = config.hiddenSize;
  const n = moeTensorNames(config, layer);
  const out: [string, number[]][] = [[n.router, [E, H]]];
  for (let e = 0; e < E; e++) out.push([n.gate(e), [F, H]], [n.up(e), [F, H]], [n.down(e), [H, F]]);
  return out;
}
