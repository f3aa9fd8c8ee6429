// @module Every layer slides: a step never reads the KV blocks behind the window (the router frees them early), so their content cannot change the logits.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomLlamaModel } from '@tessera/testing';
import { everyLayerSlidingWindow } from '../graph/families/family-blocks.ts';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import { argmax } from '../sampler/sampler.ts';
import type { KvCache } from './kv-cache.ts';
import { ModelRunner } from './model-runner.ts';
import { ShardEngine } from './shard-engine.ts';

const WINDOW = 5;
const BLOCK_SIZE = 4;
const model = randomLlamaModel({ numLayers: 2, architecture: 'MistralForCausalLM', slidingWindow: WINDOW }, 17);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-swa-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

test('the window is reported only when every layer slides', () => {
  assert.equal(everyLayerSlidingWindow(model.config), WINDOW);
  assert.equal(everyLayerSlidingWindow({ ...model.config, slidingLayers: [true, true] }), WINDOW);
  assert.equal(everyLayerSlidingWindow({ ...model.config, slidingLayers: [true, false] }), 0, 'a global layer (Gemma) reads every block');
  assert.equal(everyLayerSlidingWindow({ ...model.config, slidingWindow: null }), 0);
});

test('blocks behind every window can be overwritten (freed and reused) without changing any logit', async () => {
  const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1 });
  const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: BLOCK_SIZE, threads: 1 });
  const engine = new ShardEngine(runner, { modelId: 'random', rank: 0, worldSize: 1, kvCacheMemory: 1 << 20 });
  assert.equal(engine.info().slidingWindowAllLayers, WINDOW);
  await runner.warmup(16, 12);
  assert.equal(runner.kv.kind, 'host');
  const blocks = [3, 7, 1, 9, 4, 6]; // 24 rows, out of order as the allocator may hand them out
  const prompt = [5, 9, 2, 11, 7, 3, 8, 1, 12, 4];

  /** Greedy steps; with `reuse`, before each step the blocks behind its window are filled with NaN. */
  async function run(reuse: boolean): Promise<Float32Array[]> {
    runner.allocate(12);
    const kv = (await runner.kv.ready()) as KvCache;
    const clobberBehind = (start: number) => {
      const behind = Math.floor((start - WINDOW + 1) / BLOCK_SIZE);
      const floats = BLOCK_SIZE * model.config.headDim;
      for (const pool of [...kv.k, ...kv.v])
        for (let h = 0; h < model.config.numKvHeads; h++)
          for (const b of blocks.slice(0, Math.max(0, behind))) pool.fill(Number.NaN, (h * kv.numBlocks + b) * floats, (h * kv.numBlocks + b + 1) * floats);
    };
    const logits: Float32Array[] = [];
    // A chunked prefill (8 + 2 tokens: the second chunk's window starts at row 4), then decode steps.
    await runner.step([{ ids: prompt.slice(0, 8), start: 0, blocks, allLogits: false }]);
    if (reuse) clobberBehind(8);
    let out = await runner.step([{ ids: prompt.slice(8), start: 8, blocks, allLogits: false }]);
    logits.push(out.logits.slice());
    for (let pos = prompt.length; pos < 22; pos++) {
      if (reuse) clobberBehind(pos);
      out = await runner.step([{ ids: [argmax(logits.at(-1)!)], start: pos, blocks, allLogits: false }]);
      logits.push(out.logits.slice());
    }
    return logits;
  }

  try {
    const kept = await run(false);
    const reused = await run(true);
    assert.ok(
      kept.every((l) => l.every(Number.isFinite)),
      'finite logits',
    );
    assert.deepEqual(reused, kept);
  } finally {
    await runner.release();
  }
});
