// @module Loads a .gguf file as a LoadedModel: GGUF tensor names → HF names, Q/K un-permuted to HF layout.

import path from 'node:path';
import { checkTensorShapes } from './canonical-tensors.ts';
import { modelDigest } from './digest.ts';
import { ggufModelConfig } from './gguf-config.ts';
import { familyOf } from './families/families.ts';
import { FUSED_GATE_UP, FUSED_QKV, FusedSplitter } from './fused-projections.ts';
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
  'attn_qkv.weight': FUSED_QKV,
  'ffn_norm.weight': 'post_attention_layernorm.weight',
  'attn_q_norm.weight': 'self_attn.q_norm.weight',
  'attn_k_norm.weight': 'self_attn.k_norm.weight',
  // Post-norm families (OLMo 2): HF's post_attention_layernorm follows attention instead of preceding the MLP.
  'post_attention_norm.weight': 'post_attention_layernorm.weight',
  'post_ffw_norm.weight': 'post_feedforward_layernorm.weight',
  'ffn_gate.weight': 'mlp.gate_proj.weight',
  'ffn_up.weight': 'mlp.up_proj.weight',
  'ffn_down.weight': 'mlp.down_proj.weight',
};

/** Families whose checkpoints fuse gate and up: llama.cpp's ffn_up holds both (gate rows first). */
const fusesGateUp = (config?: Pick<ModelConfig, 'architecture'>) => config !== undefined && familyOf(config.architecture).fusedProjections === true;

/** A GGUF tensor name → its HF name, or undefined for tensors that have none (e.g. rope_freqs.weight). */
export function hfNameForGguf(ggufName: string, config?: Pick<ModelConfig, 'architecture' | 'normPlacement'>): string | undefined {
  if (GLOBAL_NAMES[ggufName]) return GLOBAL_NAMES[ggufName];
  const match = /^blk\.(\d+)\.(.+)$/.exec(ggufName);
  if (match && match[2] === 'ffn_up.weight' && fusesGateUp(config)) return `model.layers.${match[1]}.${FUSED_GATE_UP}`;
  if (match && match[2] === 'ffn_norm.weight' && config?.normPlacement === 'sandwich') return `model.layers.${match[1]}.pre_feedforward_layernorm.weight`;
  const suffix = match && BLOCK_NAMES[match[2]!];
  return suffix ? `model.layers.${match[1]}.${suffix}` : undefined;
}

/**
 * An HF name → the GGUF name llama.cpp gives it, or the HF name if there is none. `post_attention_layernorm`
 * is `ffn_norm` (pre-MLP) unless the config places norms after the blocks (then `post_attention_norm`).
 */
export function ggufNameForHf(hfName: string, config?: Pick<ModelConfig, 'normPlacement' | 'architecture'>): string {
  const global = Object.entries(GLOBAL_NAMES).find(([, hf]) => hf === hfName);
  if (global) return global[0];
  const match = /^model\.layers\.(\d+)\.(.+)$/.exec(hfName);
  if (match && match[2] === FUSED_GATE_UP) return `blk.${match[1]}.ffn_up.weight`;
  if (match && match[2] === 'post_attention_layernorm.weight' && (config?.normPlacement === 'post' || config?.normPlacement === 'sandwich'))
    return `blk.${match[1]}.post_attention_norm.weight`;
  if (match && match[2] === 'pre_feedforward_layernorm.weight') return `blk.${match[1]}.ffn_norm.weight`;
  const block = match && Object.entries(BLOCK_NAMES).find(([, hf]) => hf === match[2]);
  return block ? `blk.${match[1]}.${block[0]}` : hfName;
}

/**
 * Heads to un-permute a tensor with, or 0 if it is stored in HF order. llama.cpp permutes Q and K (weights and
 * biases) of llama-arch models only; its qwen2 converter leaves them in HF order.
 */
export function qkPermuteHeads(hfName: string, config: ModelConfig): number {
  if (!familyOf(config.architecture).ggufPermutesQk) return 0;
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
    const hfName = hfNameForGguf(name, config) ?? hfNameForGgufExpert(name, config);
    if (hfName) ggufNameOf.set(hfName, name);
  }
  const infoByHf = (hfName: string) => gguf.tensors.get(ggufNameOf.get(hfName) ?? '');
  // Phi-3's attn_qkv / ffn_up (gate and up) are read as the canonical q/k/v and gate/up parts.
  const fused = new FusedSplitter(
    config,
    (hfName) => infoByHf(hfName)?.shape,
    (hfName) => readGgufTensor(gguf, infoByHf(hfName)!.name),
    (hfName) => (isQuantizedGgufTensor(infoByHf(hfName)!) ? readGgufBlockAffine(gguf, infoByHf(hfName)!.name) : null),
  );
  const storedName = (hfName: string) => (fused.owns(hfName) ? fused.storedName(hfName) : hfName);
  const names = checkTensorShapes(
    label,
    config,
    (hfName) => (fused.owns(hfName) ? fused.shape(hfName) : infoByHf(hfName)?.shape),
    (hfName) => ggufNameOf.get(storedName(hfName)) ?? ggufNameForHf(hfName, config),
  );
  for (const hfName of names) assertReadableTensor(infoByHf(storedName(hfName))!, label);
  const known = new Set(names);
  // Gemma GGUFs store every norm as 1 + w (llama.cpp conversion/gemma.py); the canonical tensor is w.
  const normShift = familyOf(config.architecture).ggufNormShift ?? 0;
  const tokenizer = ggufTokenizer(gguf.metadata, label);
  const infoOf = (name: string) => {
    if (!known.has(name)) throw new ModelLoadError(label, `tensor "${name}" is not a tensor of this model`);
    return infoByHf(storedName(name))!;
  };

  return {
    path: file,
    format: 'gguf',
    config,
    digest: modelDigest('gguf', [file]),
    tensorNames: () => [...names],
    tensor(name: string): FloatTensor {
      if (fused.owns(name)) return fused.read(name);
      const tensor = readGgufTensor(gguf, infoOf(name).name);
      if (normShift !== 0 && name.endsWith('norm.weight')) return { shape: tensor.shape, data: tensor.data.map((v) => v - normShift) };
      const heads = qkPermuteHeads(name, config);
      return heads ? { shape: tensor.shape, data: unpermuteQk(tensor.data, tensor.shape[0]!, heads) } : tensor;
    },
    // Block-quantized matrices stay quantized (ggml-block-affine.ts); Q/K rows are un-permuted whole.
    quantized(name: string): BlockAffine | null {
      const info = infoOf(name);
      if (!isQuantizedGgufTensor(info)) return null;
      if (fused.owns(name)) return fused.quantized(name);
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
