// @module Quantized weights through the real step graph (MatMulNBits + block-sum offsets, quantized embedding gather) vs the fp64 reference on the same values.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel, type LoadedModel } from '@tessera/model-files';
import type { Request } from '@tessera/protocol';
import { ReferenceCache, ReferenceLlama } from '@tessera/testing';
import { randomQuantizedModel, type RandomQuantLayout } from '@tessera/testing';
import { ModelRunner } from '../runner/model-runner.ts';
import { ShardEngine } from '../runner/shard-engine.ts';
import { argmax, logSoftmax } from '../sampler/sampler.ts';
import { ensureStepGraph } from './graph-cache.ts';
import type { QuantAccuracy } from './linear.ts';

const quantizedDir = path.resolve(import.meta.dirname, '../../../../..', 'shared', 'models', 'quantized');
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-quant-graph-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

const greedy = {
  temperature: 0,
  topK: 0,
  topP: 0,
  typicalP: 0,
  doSample: false,
  seed: 0,
  repetitionPenalty: 0,
  frequencyPenalty: 0,
  presencePenalty: 0,
  minP: 0,
  logitBias: {},
};
const request = (inputIds: number[]): Request => ({
  id: 1,
  inputIds,
  blocks: [3, 1, 4, 0],
  cacheLen: 0,
  chunkLen: 0,
  prefillLogprobs: false,
  topNTokens: 5,
  parameters: greedy,
  stoppingParameters: { maxNewTokens: 6, stopTokenIds: [], minNewTokens: 0 },
});

interface Run {
  ids: number[];
  /** Top-5 (id, logprob) of every step. */
  tops: Array<{ ids: number[]; logprobs: number[] }>;
}

async function generate(model: LoadedModel, prompt: number[], quantAccuracy: QuantAccuracy): Promise<Run> {
  const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1, graph: { dtype: 'float32', kvLayout: 'host', quantAccuracy } });
  const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: 8, threads: 1 });
  try {
    const engine = new ShardEngine(runner, { modelId: 'q', rank: 0, worldSize: 1, kvCacheMemory: 1 << 20 });
    await engine.warmup({ maxBatchPrefillTokens: 64, maxTotalTokens: 64, maxBatchSize: 2 });
    const pre = await engine.prefill({ batch: { id: 1, size: 1, maxTokens: 0, requests: [request(prompt)] } });
    const run: Run = { ids: [pre.generations[0]!.tokens.ids[0]!], tops: [pre.generations[0]!.topTokens[0]!] };
    let batch = pre.batch;
    while (batch !== null) {
      const d = await engine.decode({ batches: [batch] });
      run.ids.push(d.generations[0]!.tokens.ids[0]!);
      run.tops.push(d.generations[0]!.topTokens[0]!);
      batch = d.batch;
    }
    return run;
  } finally {
    await runner.release();
  }
}

/** The fp64 reference's log-probabilities at every step, fed the ids the graph chose. */
function referenceLogprobs(model: LoadedModel, prompt: number[], chosen: number[]): Float64Array[] {
  const ref = new ReferenceLlama(model);
  const cache = new ReferenceCache(model.config.numLayers);
  const out = [Float64Array.from(logSoftmax(ref.forward(prompt, cache).at(-1)!))];
  for (const id of chosen.slice(0, -1)) out.push(Float64Array.from(logSoftmax(ref.forward([id], cache)[0]!)));
  return out;
}

const L = (bits: 4 | 8, blockSize: number, offsets: boolean): RandomQuantLayout => ({ bits, blockSize, offsets });
const linearNames = /(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$|lm_head\.weight$|embed_tokens\.weight$/;
const uniform = (layout: RandomQuantLayout) => (name: string) => (linearNames.test(name) ? layout : null);
/** A Q4_K_M-like mix: Q/K/gate/up 4-bit/32 with offsets, V and down 8-bit/16, o_proj 4-bit/16, head 8-bit/32, float embedding. */
const mixed = (name: string): RandomQuantLayout | null => {
  if (/(v_proj|down_proj)\.weight$/.test(name)) return L(8, 16, false);
  if (/o_proj\.weight$/.test(name)) return L(4, 16, true);
  if (/lm_head\.weight$/.test(name)) return L(8, 32, false);
  if (/embed_tokens/.test(name)) return null;
  return linearNames.test(name) ? L(4, 32, true) : null;
};

const prompt = [1, 17, 42, 99, 5, 150, 23, 8, 64, 77, 3];
const CASES: Array<[string, Parameters<typeof randomQuantizedModel>[0], (name: string) => RandomQuantLayout | null]> = [
  ['4-bit, block 32, no offsets (Q4_0-like)', {}, uniform(L(4, 32, false))],
  ['4-bit, block 16, offsets (Q2_K/Q4_1-like)', {}, uniform(L(4, 16, true))],
  ['8-bit, block 32, no offsets (Q8_0/IQ4_NL-like)', {}, uniform(L(8, 32, false))],
  ['8-bit, block 16, offsets (Q5_K-like)', {}, uniform(L(8, 16, true))],
  ['mixed layouts within fused groups, float embedding', {}, mixed],
  [
    'tied, quantized embedding shared with the LM head; Qwen2 biases',
    { tieWordEmbeddings: true, attentionBias: true, architecture: 'Qwen2ForCausalLM' },
    uniform(L(4, 32, true)),
  ],
];

describe('quantized step graph vs the fp64 reference on the dequantized weights', () => {
  for (const [name, overrides, layoutOf] of CASES) {
    test(`${name}: float32 activations give the reference's greedy ids and log-probabilities (≤ 2e-4)`, async () => {
      const model = randomQuantizedModel(overrides, 7, layoutOf);
      const run = await generate(model, prompt, 'float32');
      const ref = referenceLogprobs(model, prompt, run.ids);
      run.ids.forEach((id, step) => assert.equal(id, argmax(ref[step]!), `step ${step}: greedy id`));
      run.tops.forEach((top, step) =>
        top.ids.forEach((id, k) =>
          assert.ok(Math.abs(top.logprobs[k]! - ref[step]![id]!) < 2e-4, `step ${step} token ${id}: ${top.logprobs[k]} vs fp64 ${ref[step]![id]}`),
        ),
      );
    });
  }

  test('int8 activations (the default) stay within the activation-quantization error of the reference', async () => {
    for (const [name, overrides, layoutOf] of CASES) {
      const model = randomQuantizedModel(overrides, 7, layoutOf);
      const run = await generate(model, prompt, 'int8');
      const ref = referenceLogprobs(model, prompt, run.ids);
      // int8 activations move each logit by a fraction of the logits' own spread (per-block activation
      // rounding at 1/127 of the block's max): bounded relative to the reference's standard deviation.
      let worst = 0;
      run.tops.forEach((top, step) => {
        const r = ref[step]!;
        const mean = r.reduce((a, b) => a + b, 0) / r.length;
        const spread = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / r.length);
        top.ids.forEach((id, k) => (worst = Math.max(worst, Math.abs(top.logprobs[k]! - r[id]!) / spread)));
      });
      assert.ok(worst < 0.1, `${name}: worst top-5 logprob error is ${worst.toFixed(3)} of the logits' spread`);
    }
  });
});

/**
 * Largest relative RMS difference of the prompt's logits from the F32 original's (‖Δ‖ / ‖original − mean‖),
 * 1.3× what was measured: llama.cpp's quantization error, shrinking with bits, amplified ~5× by this random
 * model. Unrelated logits would be ~1.4; a decoder bug shows up far more sharply per tensor (ggml-blocks.test.ts).
 */
const FILE_TOLERANCE: Record<string, number> = {
  Q8_0: 0.04,
  Q6_K: 0.13,
  Q5_0: 0.3,
  Q5_1: 0.25,
  Q5_K_M: 0.21,
  Q4_0: 0.55,
  Q4_1: 0.6,
  Q4_K_M: 0.43,
  IQ4_NL: 0.5,
  Q3_K_M: 0.87,
  Q2_K: 1.25,
};

function promptLogits(model: LoadedModel): Float64Array[] {
  return new ReferenceLlama(model).forward(prompt, new ReferenceCache(model.config.numLayers)).map((row) => Float64Array.from(row));
}

describe('GGUF files quantized by llama.cpp, executed quantized', () => {
  let original: Float64Array[] | null = null;
  for (const [type, tolerance] of Object.entries(FILE_TOLERANCE)) {
    test(`${type}: the graph equals the fp64 reference on the dequantized weights; logits within ${tolerance} (relative) of the F32 original`, async (t) => {
      if (!fs.existsSync(quantizedDir)) return t.skip('../shared/models/quantized is not present');
      const model = await loadModel(path.join(quantizedDir, `small-${type}.gguf`));
      const run = await generate(model, prompt, 'float32');
      const ref = referenceLogprobs(model, prompt, run.ids);
      run.ids.forEach((id, step) => assert.equal(id, argmax(ref[step]!), `step ${step}: greedy id`));
      run.tops.forEach((top, step) =>
        top.ids.forEach((id, k) =>
          assert.ok(Math.abs(top.logprobs[k]! - ref[step]![id]!) < 3e-4, `step ${step} token ${id}: ${top.logprobs[k]} vs fp64 ${ref[step]![id]}`),
        ),
      );

      original ??= promptLogits(await loadModel(path.join(quantizedDir, 'small-F32.gguf')));
      const quantized = promptLogits(model);
      let error = 0,
        norm = 0;
      original.forEach((row, p) => {
        const mean = row.reduce((a, b) => a + b, 0) / row.length;
        row.forEach((v, i) => {
          error += (quantized[p]![i]! - v) ** 2;
          norm += (v - mean) ** 2;
        });
      });
      const relative = Math.sqrt(error / norm);
      t.diagnostic(`prompt logits vs the F32 original: relative RMS difference ${relative.toFixed(4)}`);
      assert.ok(relative < tolerance, `${type}: ${relative} from the F32 original`);
    });
  }
});
