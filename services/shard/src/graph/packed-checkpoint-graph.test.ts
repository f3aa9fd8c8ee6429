// @module GPTQ and AWQ HF directories, loaded from disk, through the real step graph vs the fp64 reference on their decoded weights.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadHfDir, type LoadedModel, type ModelConfig } from '@tessera/model-files';
import type { Request } from '@tessera/protocol';
import { writePackedHfDir, type PackedDirOptions } from '../../../../packages/model-files/src/packed-checkpoint.test-helper.ts';
import { ReferenceCache, ReferenceLlama } from '@tessera/testing';
import { SMALL_CONFIG } from '@tessera/testing';
import { ModelRunner } from '../runner/model-runner.ts';
import { ShardEngine } from '../runner/shard-engine.ts';
import { argmax, logSoftmax } from '../sampler/sampler.ts';
import { ensureStepGraph } from './graph-cache.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-packed-graph-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

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

/** Greedy ids and the top-5 log-probabilities of every step, through ModelRunner + ShardEngine (float32 activations). */
async function generate(model: LoadedModel, prompt: number[]): Promise<{ ids: number[]; tops: Array<{ ids: number[]; logprobs: number[] }> }> {
  const { onnxPath } = ensureStepGraph(model, {
    cacheDir: path.join(root, 'graphs'),
    rank: 0,
    worldSize: 1,
    graph: { dtype: 'float32', kvLayout: 'host', quantAccuracy: 'float32' },
  });
  const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: 8, threads: 1 });
  try {
    const engine = new ShardEngine(runner, { modelId: 'packed', rank: 0, worldSize: 1, kvCacheMemory: 1 << 20 });
    await engine.warmup({ maxBatchPrefillTokens: 64, maxTotalTokens: 64, maxBatchSize: 2 });
    const pre = await engine.prefill({ batch: { id: 1, size: 1, maxTokens: 0, requests: [request(prompt)] } });
    const ids = [pre.generations[0]!.tokens.ids[0]!];
    const tops = [pre.generations[0]!.topTokens[0]!];
    let batch = pre.batch;
    while (batch !== null) {
      const d = await engine.decode({ batches: [batch] });
      ids.push(d.generations[0]!.tokens.ids[0]!);
      tops.push(d.generations[0]!.topTokens[0]!);
      batch = d.batch;
    }
    return { ids, tops };
  } finally {
    await runner.release();
  }
}

const config = (overrides: Partial<ModelConfig> = {}): ModelConfig => ({ ...SMALL_CONFIG, intermediateSize: 128, ...overrides });
const prompt = [1, 17, 42, 99, 5, 150, 23, 8, 64, 77, 3];
const CASES: Array<[string, ModelConfig, PackedDirOptions]> = [
  ['GPTQ 4-bit asymmetric, group 32', config(), { method: 'gptq' }],
  ['GPTQ 4-bit symmetric, group 64 (no offsets), tied embeddings', config({ tieWordEmbeddings: true }), { method: 'gptq', symmetric: true, groupSize: 64 }],
  ['GPTQ 8-bit, group 32', config(), { method: 'gptq', bits: 8 }],
  ['AWQ 4-bit, group 32, Qwen2 biases', config({ architecture: 'Qwen2ForCausalLM', attentionBias: true }), { method: 'awq' }],
];

for (const [name, modelConfig, options] of CASES) {
  test(`${name}: the shard's greedy ids and log-probabilities match the fp64 reference on the decoded weights (≤ 2e-4)`, async () => {
    const dir = path.join(root, name.replace(/\W+/g, '-'));
    fs.mkdirSync(dir);
    writePackedHfDir(dir, modelConfig, options);
    const model = await loadHfDir(dir);
    const run = await generate(model, prompt);
    // The reference reads model.tensor(): the float expansion of the same BlockAffine matrices.
    const ref = new ReferenceLlama(model);
    const cache = new ReferenceCache(model.config.numLayers);
    const logprobs = [logSoftmax(ref.forward(prompt, cache).at(-1)!)];
    for (const id of run.ids.slice(0, -1)) logprobs.push(logSoftmax(ref.forward([id], cache)[0]!));
    run.ids.forEach((id, step) => assert.equal(id, argmax(logprobs[step]!), `step ${step}: greedy id`));
    run.tops.forEach((top, step) =>
      top.ids.forEach((id, k) => {
        const diff = Math.abs(top.logprobs[k]! - logprobs[step]![id]!);
        assert.ok(diff < 2e-4, `step ${step} token ${id}: ${top.logprobs[k]} vs fp64 ${logprobs[step]![id]}`);
      }),
    );
  });
}
