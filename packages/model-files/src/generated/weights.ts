// @module Deterministic weights for a generated model: canonical HF tensor names, shapes, seeded init.

import type { FloatTensor } from '../types.ts';
import type { GeneratedModelSpec } from './presets.ts';
import { fillNormalish, tensorRng } from './prng.ts';

export interface GeneratedTensorSpec {
  name: string;
  shape: number[];
  /** 'normal': mean 0, std spec.initStd (Linear weights, embeddings, biases); 'ones': norm weights. */
  init: 'normal' | 'ones';
}

/** Every tensor of the model, canonical HF names and layouts ([out, in] Linear weights), sorted by name. */
export function generatedTensorSpecs(spec: GeneratedModelSpec): GeneratedTensorSpec[] {
  const { hiddenSize: h, intermediateSize: ffn, vocabSize: v, headDim } = spec;
  const qDim = spec.numHeads * headDim;
  const kvDim = spec.numKvHeads * headDim;
  const list: GeneratedTensorSpec[] = [
    { name: 'model.embed_tokens.weight', shape: [v, h], init: 'normal' },
    { name: 'model.norm.weight', shape: [h], init: 'ones' },
  ];
  if (!spec.tieWordEmbeddings) list.push({ name: 'lm_head.weight', shape: [v, h], init: 'normal' });
  for (let i = 0; i < spec.numLayers; i++) {
    const p = `model.layers.${i}`;
    list.push(
      { name: `${p}.input_layernorm.weight`, shape: [h], init: 'ones' },
      { name: `${p}.post_attention_layernorm.weight`, shape: [h], init: 'ones' },
      { name: `${p}.self_attn.q_proj.weight`, shape: [qDim, h], init: 'normal' },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kvDim, h], init: 'normal' },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kvDim, h], init: 'normal' },
      { name: `${p}.self_attn.o_proj.weight`, shape: [h, qDim], init: 'normal' },
      { name: `${p}.mlp.gate_proj.weight`, shape: [ffn, h], init: 'normal' },
      { name: `${p}.mlp.up_proj.weight`, shape: [ffn, h], init: 'normal' },
      { name: `${p}.mlp.down_proj.weight`, shape: [h, ffn], init: 'normal' },
    );
    if (spec.attentionBias) {
      // Non-zero biases, so a graph that drops them gives visibly different logits.
      list.push(
        { name: `${p}.self_attn.q_proj.bias`, shape: [qDim], init: 'normal' },
        { name: `${p}.self_attn.k_proj.bias`, shape: [kvDim], init: 'normal' },
        { name: `${p}.self_attn.v_proj.bias`, shape: [kvDim], init: 'normal' },
      );
    }
  }
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export const elementCount = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** One tensor's values: a function of (seed, name, shape, init) only, so adding layers leaves others unchanged. */
export function generateTensorData(tensor: GeneratedTensorSpec, spec: GeneratedModelSpec, seed: number): Float32Array {
  const data = new Float32Array(elementCount(tensor.shape));
  if (tensor.init === 'ones') data.fill(1);
  else fillNormalish(data, spec.initStd, tensorRng(seed, tensor.name));
  return data;
}

/** Total parameter count of a spec. */
export function generatedParameterCount(spec: GeneratedModelSpec): number {
  return generatedTensorSpecs(spec).reduce((sum, t) => sum + elementCount(t.shape), 0);
}

/** In-memory access to the generated weights (no files), e.g. for reference computations in tests. */
export function generatedTensorSource(spec: GeneratedModelSpec, seed: number): (name: string) => FloatTensor {
  const byName = new Map(generatedTensorSpecs(spec).map((t) => [t.name, t]));
  const cache = new Map<string, FloatTensor>();
  return (name) => {
    const cached = cache.get(name);
    if (cached) return cached;
    const tensor = byName.get(name);
    if (!tensor) throw new Error(`generated model has no tensor "${name}"`);
    const result = { shape: [...tensor.shape], data: generateTensorData(tensor, spec, seed) };
    cache.set(name, result);
    return result;
  };
}
