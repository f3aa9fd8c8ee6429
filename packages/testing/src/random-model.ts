// @module Deterministic random-weight Llama-family models held in memory (a LoadedModel for tests and benches).
import { createHash } from 'node:crypto';
import {
  type BlockAffine,
  expandBlockAffine,
  expectedTensorShapes,
  type FloatTensor,
  type GeneratedPresetName,
  type LoadedModel,
  type ModelConfig,
  resolveGeneratedSpec,
} from '@tessera/model-files';

/** A small default: GQA (4 heads over 2 KV heads), hidden 64, 2 layers, vocab 200. */
export const SMALL_CONFIG: ModelConfig = {
  architecture: 'LlamaForCausalLM',
  hiddenSize: 64,
  intermediateSize: 96,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  vocabSize: 200,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  ropeScaling: null,
  maxPositionEmbeddings: 256,
  tieWordEmbeddings: false,
  attentionBias: false,
  slidingWindow: null,
};

/** The dimensions of a `tessera generate-model --preset` shape, for a random model of the same size (benches). */
export function presetShape(preset: GeneratedPresetName): Partial<ModelConfig> {
  const s = resolveGeneratedSpec(preset);
  return {
    hiddenSize: s.hiddenSize,
    intermediateSize: s.intermediateSize,
    numLayers: s.numLayers,
    numHeads: s.numHeads,
    numKvHeads: s.numKvHeads,
    headDim: s.headDim,
    vocabSize: s.vocabSize,
  };
}

/** mulberry32: tiny, fast and good enough for weights (and for seeded test inputs that must replay). */
export function uniformSource(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(name: string, seed: number): number {
  return createHash('sha256').update(`${seed}:${name}`).digest().readUInt32LE(0);
}

/** Canonical HF tensor shapes for a config (the loaders' own list, so every family's extra tensors are drawn too). */
export function tensorShapes(c: ModelConfig): Map<string, number[]> {
  return expectedTensorShapes(c);
}

function randomTensor(name: string, shape: number[], seed: number): Float32Array {
  const next = uniformSource(seedOf(name, seed));
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const sqrt3 = Math.sqrt(3);
  if (shape.length === 1 && name.endsWith('norm.weight')) {
    for (let i = 0; i < data.length; i++) data[i] = 1 + 0.2 * (next() - 0.5);
  } else {
    // Uniform with std 1/sqrt(fan_in) keeps activations O(1); embeddings and biases get std 1 and 0.1.
    const fanIn = shape.length === 2 ? shape[1]! : 1;
    const std = name.includes('embed_tokens') ? 1 : name.endsWith('.bias') ? 0.1 : 1 / Math.sqrt(fanIn);
    for (let i = 0; i < data.length; i++) data[i] = (2 * next() - 1) * sqrt3 * std;
  }
  return data;
}

/** A LoadedModel with deterministic random weights (same seed and config → same weights and digest). */
export function randomLlamaModel(overrides: Partial<ModelConfig> = {}, seed = 1): LoadedModel {
  const config: ModelConfig = { ...SMALL_CONFIG, ...overrides };
  const shapes = tensorShapes(config);
  const cache = new Map<string, Float32Array>();
  const digest = createHash('sha256')
    .update(JSON.stringify({ config, seed, kind: 'random-llama-v1' }))
    .digest('hex');
  return {
    path: `random:${seed}`,
    format: 'hf',
    config,
    digest,
    tensorNames: () => [...shapes.keys()],
    tensor(name: string): FloatTensor {
      const shape = shapes.get(name);
      if (shape === undefined) throw new Error(`random model has no tensor ${name}`);
      let data = cache.get(name);
      if (data === undefined) {
        data = randomTensor(name, shape, seed);
        cache.set(name, data);
      }
      return { shape: [...shape], data: data.slice() };
    },
    tokenizer: { tokenizerJson: {}, tokenizerConfig: {}, chatTemplate: null },
    generation: {},
    bosTokenId: 1,
    eosTokenIds: [2],
  };
}

/** How one matrix of a block-quantized random model is stored. */
export interface RandomQuantLayout {
  bits: 4 | 8;
  blockSize: number;
  offsets: boolean;
}

/**
 * A random model whose Linear weights (and embedding / LM head) are block-affine matrices with random
 * codes, scales and offsets — drawn directly in the quantized form, so no quantizer is involved and
 * `tensor(name)` is their exact float expansion (what the fp64 reference runs on). `layoutOf` picks the
 * layout per tensor (null keeps it float), so mixed groups (Q4 next to Q8) can be built on purpose.
 */
export function randomQuantizedModel(overrides: Partial<ModelConfig>, seed: number, layoutOf: (name: string) => RandomQuantLayout | null): LoadedModel {
  const base = randomLlamaModel(overrides, seed);
  const cache = new Map<string, BlockAffine | null>();
  const quantized = (name: string): BlockAffine | null => {
    if (cache.has(name)) return cache.get(name)!;
    const shape = base.tensor(name).shape;
    const layout = shape.length === 2 ? layoutOf(name) : null;
    let q: BlockAffine | null = null;
    if (layout) {
      const [rows, cols] = shape as [number, number];
      const next = uniformSource(seedOf(`q:${name}`, seed));
      const nb = cols / layout.blockSize;
      const levels = 1 << layout.bits;
      const std = name.includes('embed_tokens') ? 1 : 1 / Math.sqrt(cols);
      // Spread of codes around the zero point ≈ levels/4, so scale ≈ std / (levels/4) keeps values O(std).
      const codes = Uint8Array.from({ length: rows * cols }, () => Math.floor(next() * levels));
      const scales = Float32Array.from({ length: rows * nb }, () => ((0.5 + next()) * std * 4) / levels);
      const offsets = layout.offsets ? Float32Array.from({ length: rows * nb }, () => (next() - 0.5) * std) : null;
      q = { bits: layout.bits, blockSize: layout.blockSize, rows, cols, codes, scales, offsets, source: `random-${layout.bits}bit` };
    }
    cache.set(name, q);
    return q;
  };
  const digest = createHash('sha256')
    .update(JSON.stringify({ base: base.digest, layouts: base.tensorNames().map((n) => layoutOf(n)), kind: 'random-quantized-v1' }))
    .digest('hex');
  return {
    ...base,
    digest,
    quantized,
    tensorType: (name) => {
      const q = quantized(name);
      return q ? `${q.bits}-bit/${q.blockSize}${q.offsets ? '+offsets' : ''}` : 'F32';
    },
    tensor(name: string): FloatTensor {
      const q = quantized(name);
      return q ? { shape: [q.rows, q.cols], data: expandBlockAffine(q) } : base.tensor(name);
    },
  };
}
