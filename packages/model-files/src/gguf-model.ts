// @module Loads a .gguf file as a LoadedModel: GGUF tensor names → HF names, Q/K un-permuted to HF layout.

import path from 'node:path';
import { checkTensorShapes } from './canonical-tensors.ts';
import { modelDigest } from './digest.ts';
import { ggufModelConfig } from './gguf-config.ts';
import { addExpertViews, hfNameForGgufExpert } from './gguf-experts.ts';
import { ggufTokenizer } from './gguf-tokenizer.ts';
import { permuteBlockAffineRows, type BlockAffine } from './block-affine.ts';
import { assertReadableTensor, isQuantizedGgufTensor, openGguf, readGgufBlockAffine, readGgufTensor } from './gguf.ts';
import { unpermuteQk, unpermuteQkOrder } from './qk-permute.ts';
import { ModelLoadError, type FloatTensor, type LoadedModel, type ModelConfig } from './types.ts';

const GLOBAL_NAMES: Record<string, string> = {
  'token_embd.weight': 'model.embed_tokens.weight',
  'output_norm.weight': 'model.norm.weight',
  'output.weight': 'lm_head.weight',
};

const BLOCK_NAMES: Record<string, string> = {
  'attn_norm.weight': 'input_layernorm.weight',
  'attn_q.weight': 'self_attn.q_proj.weight',
  'attn_k.weight': 'self_attn.k_proj.weight',
  'attn_v.weight': 'self_attn.v_proj.weight',
  'attn_q.bias': 'self_attn.q_proj.bias',
  'attn_k.bias': 'self_attn.k_proj.bias',
  'attn_v.bias': 'self_attn.v_proj.bias',
  'attn_output.weight': 'self_attn.o_proj.weight',
  'attn_q_norm.weight': 'self_attn.q_norm.weight',
  'attn_k_norm.weight': 'self_attn.k_norm.weight',
  'ffn_norm.weight': 'post_attention_layernorm.weight',
  'ffn_gate.weight': 'mlp.gate_proj.weight',
  'ffn_up.weight': 'mlp.up_proj.weight',
  'ffn_down.weight': 'mlp.down_proj.weight',
};

/** A GGUF tensor name → its HF name, or undefined for tensors that have none (e.g. rope_freqs.weight). */
export function hfNameForGguf(ggufName: string): string | undefined {
  if (GLOBAL_NAMES[ggufName]) return GLOBAL_NAMES[ggufName];
  const match = /^blk\.(\d+)\.(.+)$/.exec(ggufName);
  const suffix = match && BLOCK_NAMES[match[2]!];
  return suffix ? `model.layers.${match[1]}.${suffix}` : undefined;
}

/** An HF name → the GGUF name llama.cpp gives it (for error messages), or the HF name if there is none. */
export function ggufNameForHf(hfName: string): string {
  const global = Object.entries(GLOBAL_NAMES).find(([, hf]) => hf === hfName);
  if (global) return global[0];
  const match = /^model\.layers\.(\d+)\.(.+)$/.exec(hfName);
  const block = match && Object.entries(BLOCK_NAMES).find(([, hf]) => hf === match[2]);
  return block ? `blk.${match[1]}.${block[0]}` : hfName;
}

/**
 * Heads to un-permute a tensor with, or 0 if it is stored in HF order. llama.cpp permutes Q and K (weights and
 * biases) of llama-arch models only; its qwen2 converter leaves them in HF order.
 */
export function qkPermuteHeads(hfName: string, config: ModelConfig): number {
  if (config.architecture === 'Qwen2ForCausalLM' || config.architecture === 'Qwen3MoeForCausalLM') return 0;
  if (/\.self_attn\.q_proj\.(weight|bias)$/.test(hfName)) return config.numHeads;
  if (/\.self_attn\.k_proj\.(weight|bias)$/.test(hfName)) return config.numKvHeads;
  return 0;
}

/** Loads `file`; unsupported metadata, tensor types or missing tensors throw ModelLoadError naming the file. */
export async function loadGgufModel(file: string): Promise<LoadedModel> {
  const label = path.basename(file);
  const gguf = openGguf(file);
  const config = ggufModelConfig(gguf);
  // Experts are stacked 3-D tensors; each expert is read (or kept quantized) through its own 2-D view.
  if (config.moe) addExpertViews(gguf);
  const ggufNameOf = new Map<string, string>();
  for (const name of gguf.tensors.keys()) {
    const hfName = hfNameForGguf(name) ?? hfNameForGgufExpert(name, config);
    if (hfName) ggufNameOf.set(hfName, name);
  }
  const names = checkTensorShapes(
    label,
    config,
    (hfName) => gguf.tensors.get(ggufNameOf.get(hfName) ?? '')?.shape,
    (hfName) => ggufNameOf.get(hfName) ?? ggufNameForHf(hfName),
  );
  for (const hfName of names) assertReadableTensor(gguf.tensors.get(ggufNameOf.get(hfName)!)!, label);
  const known = new Set(names);
  const tokenizer = ggufTokenizer(gguf.metadata, label);
  const infoOf = (name: string) => {
    if (!known.has(name)) throw new ModelLoadError(label, `tensor "${name}" is not a tensor of this model`);
    return gguf.tensors.get(ggufNameOf.get(name)!)!;
  };

  return {
    path: file,
    format: 'gguf',
    config,
    digest: modelDigest('gguf', [file]),
    tensorNames: () => [...names],
    tensor(name: string): FloatTensor {
      const tensor = readGgufTensor(gguf, infoOf(name).name);
      const heads = qkPermuteHeads(name, config);
      return heads ? { shape: tensor.shape, data: unpermuteQk(tensor.data, tensor.shape[0]!, heads) } : tensor;
    },
    // Block-quantized matrices stay quantized (ggml-block-affine.ts); Q/K rows are un-permuted whole.
    quantized(name: string): BlockAffine | null {
      const info = infoOf(name);
      if (!isQuantizedGgufTensor(info)) return null;
      const q = readGgufBlockAffine(gguf, info.name);
      const heads = qkPermuteHeads(name, config);
      return heads ? permuteBlockAffineRows(q, unpermuteQkOrder(q.rows, heads)) : q;
    },
    tensorType: (name: string) => infoOf(name).typeName,
    tokenizer: tokenizer.files,
    generation: {
      ...(tokenizer.bosTokenId !== null ? { bosTokenId: tokenizer.bosTokenId } : {}),
      ...(tokenizer.eosTokenIds.length > 0 ? { eosTokenIds: tokenizer.eosTokenIds } : {}),
    },
    bosTokenId: tokenizer.bosTokenId,
    eosTokenIds: tokenizer.eosTokenIds,
    warnings: tokenizer.warnings,
  };
}
