// @module The engine on the real stories260K model (GGUF and HF): greedy ids vs an independent C++ run, prefix cache.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Request } from '@tessera/protocol';
import { ReferenceCache, ReferenceLlama } from '@tessera/testing';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import { logSoftmax } from '../sampler/sampler.ts';
import { ModelRunner } from './model-runner.ts';
import { ShardEngine } from './shard-engine.ts';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const shared = path.resolve(repoRoot, '..', 'shared');
const fixturePath = path.join(shared, 'fixtures', 'stories260K-greedy.json');
const haveShared = fs.existsSync(fixturePath);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-stories-'));
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
  prefillLogprobs: false,
  topNTokens: 3,
  parameters: greedy,
  stoppingParameters: { maxNewTokens: 32, stopTokenIds: [], minNewTokens: 0 },
  ...extra,
});

for (const variant of ['stories260K.gguf', 'hf']) {
  describe(`stories260K (${variant}) through the shard engine`, () => {
    test('32 greedy tokens equal the fixture; first-token logprobs match fp64 and the fixture', async (t) => {
      if (!haveShared) return t.skip('stories260K fixture: ../shared not present');
      // Imported lazily so that a missing ../shared never touches the model loader.
      const { loadModel } = await import('@tessera/model-files');
      const fixture = JSON.parse(fs.readFileSync(fixturePath, 'utf8')) as {
        prompt_ids_with_bos: number[];
        greedy_ids: number[];
        first_token_top3_logprobs: Array<{ id: number; logprob: number }>;
      };
      const model = await loadModel(path.join(shared, 'models', 'stories260K', variant));
      const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1 });
      const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: 16, threads: 1 });
      t.after(() => runner.release());
      const engine = new ShardEngine(runner, { modelId: variant, rank: 0, worldSize: 1, kvCacheMemory: 4 << 20 });
      await engine.warmup({ maxBatchPrefillTokens: 256, maxTotalTokens: 512, maxBatchSize: 4 });

      const prompt = fixture.prompt_ids_with_bos;
      const pre = await engine.prefill({ batch: { id: 1, size: 1, maxTokens: 48, requests: [request(1, prompt, [7, 3, 12])] } });
      const ids = [pre.generations[0]!.tokens.ids[0]!];
      let batch = pre.batch;
      while (batch !== null) {
        const d = await engine.decode({ batches: [batch] });
        ids.push(d.generations[0]!.tokens.ids[0]!);
        if (d.batch === null) assert.equal(d.generations[0]!.finishReason, 'FINISH_REASON_LENGTH');
        batch = d.batch;
      }
      assert.deepEqual(ids, fixture.greedy_ids);

      // The fp64 reference is the tight bar (1e-4). The fixture comes from llama.cpp, whose default F16
      // KV cache moves these logprobs by up to ~2.5e-3, so it is compared at 5e-3.
      const refLogprobs = logSoftmax(new ReferenceLlama(model).forward(prompt, new ReferenceCache(model.config.numLayers)).at(-1)!);
      const top = pre.generations[0]!.topTokens[0]!;
      assert.deepEqual(
        top.ids,
        fixture.first_token_top3_logprobs.map((e) => e.id),
      );
      top.ids.forEach((id, k) => {
        assert.ok(Math.abs(top.logprobs[k]! - refLogprobs[id]!) < 1e-4, `token ${id}: ${top.logprobs[k]} vs fp64 ${refLogprobs[id]}`);
        assert.ok(Math.abs(top.logprobs[k]! - fixture.first_token_top3_logprobs[k]!.logprob) < 5e-3, `token ${id} vs fixture`);
      });

      // Prefix cache: the same prompt on the same blocks with cache_len 4 recomputes one token only.
      const again = await engine.prefill({ batch: { id: 2, size: 1, maxTokens: 48, requests: [request(2, prompt, [7, 3, 12], { cacheLen: 4 })] } });
      assert.equal(again.timings.computedTokens, 1);
      assert.equal(again.generations[0]!.tokens.ids[0], fixture.greedy_ids[0]);
      assert.ok(Math.abs(again.generations[0]!.tokens.logprobs[0]! - pre.generations[0]!.tokens.logprobs[0]!) < 1e-5);
    });
  });
}
