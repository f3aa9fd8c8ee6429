// @module The canonical (HF Llama) tensor names and shapes a ModelConfig implies, and a checker for them.

import { isSparseLayer, moeTensorShapes } from './moe-config.ts';
import { ModelLoadError, type ModelConfig } from './types.ts';

/** name → expected row-major shape, in a stable order (embeddings, layers, norm, head). */
export function expectedTensorShapes(config: ModelConfig): Map<string, number[]> {
  const { hiddenSize: h, intermediateSize: f, numHeads, numKvHeads, headDim, vocabSize: v } = config;
  const q = numHeads * headDim;
  const kv = numKvHeads * headDim;
  const shapes = new Map<string, number[]>();
  shapes.set('model.embed_tokens.weight', [v, h]);
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}`;
    // OLMo 2 norms after attention and MLP instead of before: no input norm, a post-feedforward one.
    if (config.normPlacement !== 'post') shapes.set(`${p}.input_layernorm.weight`, [h]);
    shapes.set(`${p}.self_attn.q_proj.weight`, [q, h]);
    shapes.set(`${p}.self_attn.k_proj.weight`, [kv, h]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [kv, h]);
    if (config.attentionBias) {
      shapes.set(`${p}.self_attn.q_proj.bias`, [q]);
      shapes.set(`${p}.self_attn.k_proj.bias`, [kv]);
      shapes.set(`${p}.self_attn.v_proj.bias`, [kv]);
    }
    if (config.qkNorm) {
      shapes.set(`${p}.self_attn.q_norm.weight`, [config.qkNorm === 'head' ? headDim : q]);
      shapes.set(`${p}.self_attn.k_norm.weight`, [config.qkNorm === 'head' ? headDim : kv]);
    }
    shapes.set(`${p}.self_attn.o_proj.weight`, [h, q]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [h]);
    // Gemma's sandwich: post_attention_layernorm follows attention, pre_feedforward_layernorm precedes the MLP.
    if (config.normPlacement === 'sandwich') shapes.set(`${p}.pre_feedforward_layernorm.weight`, [h]);
    if (config.normPlacement === 'post' || config.normPlacement === 'sandwich') shapes.set(`${p}.post_feedforward_layernorm.weight`, [h]);
    if (isSparseLayer(config, i)) {
      for (const [name, shape] of moeTensorShapes(config, i)) shapes.set(name, shape);
      continue;
    }
    shapes.set(`${p}.mlp.gate_proj.weight`, [f, h]);
    shapes.set(`${p}.mlp.up_proj.weight`, [f, h]);
    shapes.set(`${p}.mlp.down_proj.weight`, [h, f]);
  }
  shapes.set('model.norm.weight', [h]);
  if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [v, h]);
  return shapes;
}

/**
 * Checks every expected tensor is present with its shape. `shapeOf` returns a tensor's shape under its
 * canonical name, or undefined if absent; `sourceName` gives the name to print (e.g. the GGUF name).
 */
export function checkTensorShapes(
  file: string,
  config: ModelConfig,
  shapeOf: (canonicalName: string) => number[] | undefined,
  sourceName: (canonicalName: string) => string = (n) => n,
): string[] {
  const expected = expectedTensorShapes(config);
  for (const [name, shape] of expected) {
    const actual = shapeOf(name);
    if (!actual) throw new ModelLoadError(file, `tensor "${sourceName(name)}" is missing`);
    if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i])) {
      throw new ModelLoadError(file, `tensor "${sourceName(name)}" has shape [${actual}], expected [${shape}]`);
    }
  }
  return [...expected.keys()];
}
