// @module The ONNX step graph against the independent fp64 reference (ReferenceLlama, packages/testing/src/llama-fp64.ts, from transformers' modelling files): prefill and decode, single and batched.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelConfig } from '@tessera/model-files';
import { ensureStepGraph } from '../../services/shard/src/graph/graph-cache.ts';
import { ModelRunner } from '../../services/shard/src/runner/model-runner.ts';
import { ReferenceCache, ReferenceLlama, randomLlamaModel } from '@tessera/testing';

const TOLERANCE = 1e-4;
const BLOCK = 4;
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-ref-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

const CASES: Array<{ name: string; config: Partial<ModelConfig> }> = [
  { name: 'Llama GQA, 3 layers', config: { numLayers: 3 } },
  { name: 'Qwen2 with QKV biases', config: { architecture: 'Qwen2ForCausalLM', attentionBias: true, ropeTheta: 1_000_000 } },
  { name: 'tied embeddings', config: { tieWordEmbeddings: true } },
  {
    // theta 10k, head_dim 16, original context 32: wavelengths 6.3 (kept), 19.9 (smoothed), ≥ 63 (divided by 8).
    name: 'rope_scaling llama3',
    config: { ropeTheta: 10_000, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 32 } },
  },
  { name: 'rope_scaling linear', config: { ropeScaling: { type: 'linear', factor: 4 } } },
  { name: 'Qwen3: per-head q/k norm, tied', config: { architecture: 'Qwen3ForCausalLM', qkNorm: 'head', ropeTheta: 1_000_000, tieWordEmbeddings: true } },
  { name: 'SmolLM3: layer 4 without RoPE', config: { architecture: 'SmolLM3ForCausalLM', numLayers: 4, ropeLayers: [true, true, true, false] } },
  {
    name: 'Phi-3: partial rotary (12 of 16 dims), LongRoPE long factors and attention factor',
    config: {
      architecture: 'Phi3ForCausalLM',
      rotaryDim: 12,
      maxPositionEmbeddings: 512,
      ropeScaling: {
        type: 'longrope',
        longFactor: [1, 1.5, 2, 4, 8, 16],
        shortFactor: [1, 1, 1, 1.5, 2, 2],
        originalMaxPositionEmbeddings: 128,
        attentionFactor: 1.14,
      },
    },
  },
  {
    name: 'LongRoPE within the original context: short factors',
    config: {
      architecture: 'Phi3ForCausalLM',
      maxPositionEmbeddings: 128,
      ropeScaling: {
        type: 'longrope',
        longFactor: [1, 2, 3, 4, 5, 6, 7, 8],
        shortFactor: [1, 1, 1.25, 1.5, 2, 2, 3, 4],
        originalMaxPositionEmbeddings: 128,
        attentionFactor: 1,
      },
    },
  },
  {
    // original context 16, factor 4: correction dims 1..5 of 8 ramp; attention factor 0.1·ln 4 + 1.
    name: 'rope_scaling yarn (Qwen2.5 long context)',
    config: {
      architecture: 'Qwen2ForCausalLM',
      attentionBias: true,
      maxPositionEmbeddings: 64,
      ropeScaling: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 16, betaFast: 32, betaSlow: 1, attentionFactor: 0.1 * Math.log(4) + 1 },
    },
  },
  {
    name: 'rope_scaling dynamic (NTK), static for the extended context',
    config: { maxPositionEmbeddings: 128, ropeScaling: { type: 'dynamic', factor: 2, originalMaxPositionEmbeddings: 64 } },
  },
  // Windows shorter than the 7- and 14-token prompts, so the window matters in prefill and decode.
  { name: 'Mistral: sliding window 6 on every layer', config: { architecture: 'MistralForCausalLM', slidingWindow: 6 } },
  {
    name: 'Gemma 2: GeGLU, (1 + w) norms, √hidden embeddings, sandwich norms, soft-caps, query_pre_attn_scalar, window 5 on even layers',
    config: {
      architecture: 'Gemma2ForCausalLM',
      numLayers: 3,
      normPlacement: 'sandwich',
      gemmaNorms: true,
      queryPreAttnScalar: 24,
      attnLogitSoftcap: 5,
      finalLogitSoftcap: 3,
      slidingWindow: 5,
      slidingLayers: [true, false, true],
      tieWordEmbeddings: true,
    },
  },
  {
    name: 'Gemma 3: per-head (1 + w) q/k norms, local RoPE base on the sliding layers, linear scaling on the global one',
    config: {
      architecture: 'Gemma3ForCausalLM',
      numLayers: 3,
      normPlacement: 'sandwich',
      gemmaNorms: true,
      qkNorm: 'head',
      queryPreAttnScalar: 16,
      ropeTheta: 1_000_000,
      ropeScaling: { type: 'linear', factor: 8 },
      localRopeTheta: 10_000,
      slidingWindow: 4,
      slidingLayers: [true, true, false],
      tieWordEmbeddings: true,
    },
  },
  {
    name: 'OLMo 2: q/k norm over the projection, norms after attention and MLP',
    config: { architecture: 'Olmo2ForCausalLM', qkNorm: 'projection', normPlacement: 'post' },
  },
];

/** Three prompts of different lengths, then four decode tokens each. */
const PROMPTS = [
  [5, 17, 33, 4, 9, 100, 3],
  [42, 8, 199],
  [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
];
const DECODE = [
  [11, 12, 13, 14],
  [150, 0, 7, 7],
  [99, 98, 97, 96],
];
// Blocks deliberately scattered and out of order; each sequence owns 6 blocks (24 positions).
const BLOCKS = [
  [9, 2, 14, 3, 20, 1],
  [5, 11, 17, 0, 8, 22],
  [4, 6, 7, 10, 12, 13],
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** logits[seq][token] for the prompts (every prompt row) then each decode step. */
async function runSingle(runner: ModelRunner, i: number): Promise<Float32Array[]> {
  const V = runner.config.vocabSize;
  const out: Float32Array[] = [];
  const pre = await runner.step([{ ids: PROMPTS[i]!, start: 0, blocks: BLOCKS[i]!, allLogits: true }]);
  for (let t = 0; t < PROMPTS[i]!.length; t++) out.push(pre.logits.slice(t * V, (t + 1) * V));
  let pos = PROMPTS[i]!.length;
  for (const tok of DECODE[i]!) {
    const r = await runner.step([{ ids: [tok], start: pos++, blocks: BLOCKS[i]!, allLogits: false }]);
    out.push(r.logits.slice());
  }
  return out;
}

async function runBatched(runner: ModelRunner): Promise<Float32Array[][]> {
  const V = runner.config.vocabSize;
  const out: Float32Array[][] = PROMPTS.map(() => []);
  const pre = await runner.step(PROMPTS.map((ids, i) => ({ ids, start: 0, blocks: BLOCKS[i]!, allLogits: true })));
  PROMPTS.forEach((ids, i) => {
    for (let t = 0; t < ids.length; t++) {
      const row = pre.logitOffsets[i]! + t;
      out[i]!.push(pre.logits.slice(row * V, (row + 1) * V));
    }
  });
  for (let step = 0; step < 4; step++) {
    const r = await runner.step(PROMPTS.map((p, i) => ({ ids: [DECODE[i]![step]!], start: p.length + step, blocks: BLOCKS[i]!, allLogits: false })));
    PROMPTS.forEach((_, i) => out[i]!.push(r.logits.slice(r.logitOffsets[i]! * V, (r.logitOffsets[i]! + 1) * V)));
  }
  return out;
}

for (const c of CASES) {
  describe(`ONNX step graph vs fp64 reference: ${c.name}`, () => {
    const model = randomLlamaModel(c.config, 7);
    const reference = new ReferenceLlama(model);
    const expected = PROMPTS.map((p, i) => reference.forward([...p, ...DECODE[i]!], new ReferenceCache(model.config.numLayers)));
    let runner: ModelRunner;
    after(() => runner?.release());

    test('prefill and four decode steps, one sequence at a time', async () => {
      const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1 });
      runner = await ModelRunner.create(onnxPath, model.config, { blockSize: BLOCK, threads: 1 });
      runner.allocate(24);
      for (let i = 0; i < PROMPTS.length; i++) {
        const got = await runSingle(runner, i);
        got.forEach((logits, t) =>
          assert.ok(maxAbsDiff(logits, expected[i]![t]!) <= TOLERANCE, `seq ${i} token ${t}: diff ${maxAbsDiff(logits, expected[i]![t]!)}`),
        );
      }
    });

    test('the same three sequences batched (right-padded, ragged past) match the single runs', async () => {
      const singles: Float32Array[][] = [];
      runner.allocate(24);
      for (let i = 0; i < PROMPTS.length; i++) singles.push(await runSingle(runner, i));
      runner.allocate(24); // fresh zeroed pools: nothing leaks from the single runs
      const batched = await runBatched(runner);
      batched.forEach((seq, i) =>
        seq.forEach((logits, t) => {
          assert.ok(maxAbsDiff(logits, expected[i]![t]!) <= TOLERANCE, `seq ${i} token ${t} vs reference`);
          // float32 summation order differs between batch shapes: 1e-5 relative to the row's largest logit (Gemma's reach ~20).
          const scale = Math.max(1, ...Array.from(singles[i]![t]!, Math.abs));
          assert.ok(maxAbsDiff(logits, singles[i]![t]!) <= 1e-5 * scale, `seq ${i} token ${t}: batched ≠ single by ${maxAbsDiff(logits, singles[i]![t]!)}`);
        }),
      );
    });
  });
}
