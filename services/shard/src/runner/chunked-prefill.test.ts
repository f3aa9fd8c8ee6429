// @module Chunked prefill on the shard: partial chunks sample nothing and stay out of the batch; the result equals one whole prefill.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Request } from '@tessera/protocol';
import { ReferenceCache, ReferenceLlama } from '@tessera/testing';
import { randomLlamaModel } from '@tessera/testing';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import { argmax } from '../sampler/sampler.ts';
import { ModelRunner } from './model-runner.ts';
import { ShardEngine } from './shard-engine.ts';

const model = randomLlamaModel({ numLayers: 2 }, 11);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-chunk-'));
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
const request = (id: number, inputIds: number[], blocks: number[], extra: Partial<Request> = {}): Request => ({
  id,
  inputIds,
  blocks,
  cacheLen: 0,
  chunkLen: 0,
  prefillLogprobs: false,
  topNTokens: 0,
  parameters: greedy,
  stoppingParameters: { maxNewTokens: 6, stopTokenIds: [], minNewTokens: 0 },
  ...extra,
});

async function engine(): Promise<ShardEngine<ModelRunner>> {
  const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1 });
  const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: 4, threads: 1 });
  const e = new ShardEngine(runner, { modelId: 'random', rank: 0, worldSize: 1, kvCacheMemory: 1 << 20 });
  await e.warmup({ maxBatchPrefillTokens: 64, maxTotalTokens: 64, maxBatchSize: 4 });
  return e;
}

/** Greedy continuation from the fp64 reference. */
function referenceGreedy(prompt: number[], steps: number): number[] {
  const ref = new ReferenceLlama(model);
  const cache = new ReferenceCache(model.config.numLayers);
  const ids = [argmax(ref.forward(prompt, cache).at(-1)!)];
  while (ids.length < steps) ids.push(argmax(ref.forward([ids.at(-1)!], cache)[0]!));
  return ids;
}

test('a prompt prefilled in chunks of 5 (cache_len advancing) continues exactly like the fp64 reference', async (t) => {
  const e = await engine();
  t.after(() => e.runner.release());
  const prompt = Array.from({ length: 23 }, (_, i) => (i * 7 + 3) % model.config.vocabSize);
  const blocks = [9, 2, 14, 5, 0, 7, 11, 3];
  // The other request completes in the first call and is the only one kept in the cached batch.
  const other = Array.from({ length: 6 }, (_, i) => (i * 5 + 1) % model.config.vocabSize);
  let cacheLen = 0;
  let cached = null;
  let batchId = 1;
  while (cacheLen + 5 < prompt.length) {
    const requests = [request(1, prompt, blocks, { cacheLen, chunkLen: 5 })];
    if (cacheLen === 0) requests.push(request(2, other, [20, 21, 22]));
    const res = await e.prefill({ batch: { id: batchId++, size: requests.length, maxTokens: 0, requests } });
    const g = res.generations.find((x) => x.requestId === 1)!;
    assert.deepEqual(g.tokens.ids, [], 'a partial chunk samples nothing');
    assert.equal(g.finishReason, 'FINISH_REASON_UNSPECIFIED');
    assert.equal(res.timings.computedTokens, 5 + (cacheLen === 0 ? other.length : 0));
    if (cacheLen === 0) {
      assert.deepEqual(res.batch!.requestIds, [2], 'the partial request is not kept on the shard');
      cached = res.batch;
    } else assert.equal(res.batch, null);
    cacheLen += 5;
  }
  const last = await e.prefill({ batch: { id: batchId++, size: 1, maxTokens: 0, requests: [request(1, prompt, blocks, { cacheLen })] } });
  assert.equal(last.timings.computedTokens, prompt.length - cacheLen);
  const ids = [last.generations[0]!.tokens.ids[0]!];
  let batch = last.batch;
  while (batch !== null) {
    const d = await e.decode({ batches: [batch] });
    ids.push(d.generations[0]!.tokens.ids[0]!);
    batch = d.batch;
  }
  assert.deepEqual(ids, referenceGreedy(prompt, 6));
  assert.ok(cached !== null);
});
