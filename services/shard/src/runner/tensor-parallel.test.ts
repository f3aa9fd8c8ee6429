// @module Tensor parallelism at the runner level: TP = 2 and 4 (ranks in one process, real sockets) vs TP = 1.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Request } from '@tessera/protocol';
import { loadHfDir, loadModel, withLoadTimeQuantization, writeGeneratedModel, type LoadedModel } from '@tessera/model-files';
import { writePackedHfDir } from '../../../../packages/model-files/src/packed-checkpoint.test-helper.ts';
import { SMALL_CONFIG } from '@tessera/testing';
import { ProcessGroup } from '../collective/group.ts';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import type { ComputeType } from '../graph/step-io.ts';
import { parallelPlan } from '../weights/shard-weights.ts';
import { ModelRunner } from './model-runner.ts';
import { ShardEngine } from './shard-engine.ts';
import type { StepSequence } from './step-inputs.ts';
import { freePort } from '@tessera/testing';
import { randomQuantizedModel, type RandomQuantLayout } from '@tessera/testing';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const stories = path.resolve(repoRoot, '..', 'shared', 'models', 'stories260K', 'hf');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-tp-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** All ranks of one world in this process: each its own graph, sessions, KV pools and group links. */
async function startWorld(model: LoadedModel, world: number, dtype: ComputeType = 'float32'): Promise<{ runners: ModelRunner[]; close(): Promise<void> }> {
  const cacheDir = path.join(tmp, 'graphs');
  const masterPort = await freePort();
  const groups = await Promise.all(
    Array.from({ length: world }, (_, rank) =>
      ProcessGroup.create({ rank, worldSize: world, masterAddr: '127.0.0.1', masterPort, timeoutMs: 20_000, rendezvousTimeoutMs: 20_000 }),
    ),
  );
  // A rank that cannot start (a refused split) must not leave the others' links open: the test process would never exit.
  const started = await Promise.allSettled(
    groups.map(async (group, rank) => {
      const graph = ensureStepGraph(model, { cacheDir, rank, worldSize: world, graph: { dtype, kvLayout: 'host' } });
      const parallel = world > 1 ? { segmentPaths: graph.segmentPaths, kvHeads: parallelPlan(model.config, rank, world).kvHeads.count, group } : undefined;
      return ModelRunner.create(graph.onnxPath, model.config, { blockSize: 4, threads: 1, parallel });
    }),
  );
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    for (const g of groups) g.close();
    for (const s of started) if (s.status === 'fulfilled') await s.value.release();
    throw failed.reason;
  }
  const runners = started.map((s) => (s as PromiseFulfilledResult<ModelRunner>).value);
  return {
    runners,
    async close() {
      for (const g of groups) g.close();
      for (const r of runners) await r.release();
    },
  };
}

/** One step on every rank at once; rank 0's logits, then their per-row log-sum-exp (whole vocabulary). */
async function stepAll(runners: ModelRunner[], seqs: StepSequence[]): Promise<Float32Array[]> {
  const results = await Promise.all(runners.map((r) => r.step(seqs)));
  for (const r of results.slice(1)) assert.equal(r.logits.length, 0, 'only rank 0 gets logits');
  const lse = results[0]!.logitsLse;
  assert.ok(lse !== null, 'rank 0 gets the log-sum-exp of every logits row');
  return [results[0]!.logits, lse];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

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
const request = (id: number, inputIds: number[], blocks: number[]): Request => ({
  id,
  inputIds,
  blocks,
  cacheLen: 0,
  prefillLogprobs: false,
  topNTokens: 0,
  parameters: greedy,
  stoppingParameters: { maxNewTokens: 12, stopTokenIds: [], minNewTokens: 0 },
});

/** Logits (and their log-sum-exps) of a batched prefill (every token), then two batched decode steps, and of a single sequence. */
async function logitTrace(runners: ModelRunner[], vocab: number): Promise<Float32Array[]> {
  for (const r of runners) r.allocate(32);
  const a = [1, 17, 40, 99, 5];
  const b = [1, 300 % vocab, 7, 8, 9, 10, 11, 12, 13, 200 % vocab, 3];
  const out = await stepAll(runners, [
    { ids: a, start: 0, blocks: [0, 1], allLogits: true },
    { ids: b, start: 0, blocks: [2, 3, 4, 5], allLogits: true },
  ]);
  out.push(
    ...(await stepAll(runners, [
      { ids: [42], start: 5, blocks: [0, 1], allLogits: false },
      { ids: [43], start: 11, blocks: [2, 3, 4, 5], allLogits: false },
    ])),
  );
  out.push(
    ...(await stepAll(runners, [
      { ids: [44], start: 6, blocks: [0, 1], allLogits: false },
      { ids: [45], start: 12, blocks: [2, 3, 4, 5], allLogits: false },
    ])),
  );
  out.push(...(await stepAll(runners, [{ ids: [1, 2, 3], start: 0, blocks: [9], allLogits: false }])));
  return out;
}

/** Greedy ids through the engines (rank 0 samples and broadcasts), batched: two requests, prefill + decodes. */
async function greedyIds(runners: ModelRunner[]): Promise<number[][]> {
  const world = runners.length;
  const engines = runners.map((r, rank) => new ShardEngine(r, { modelId: 'm', rank, worldSize: world, kvCacheMemory: 1 << 20 }));
  await Promise.all(engines.map((e) => e.warmup({ maxBatchPrefillTokens: 32, maxTotalTokens: 64, maxBatchSize: 4 })));
  const batch = { id: 1, size: 2, maxTokens: 64, requests: [request(1, [1, 5, 9, 13], [0, 1, 2, 3, 4]), request(2, [1, 2, 3, 4, 5, 6, 7], [5, 6, 7, 8, 9])] };
  const pre = await Promise.all(engines.map((e) => e.prefill({ batch })));
  const ids = pre[0]!.generations.map((g) => [...g.tokens.ids]);
  let cached = pre.map((p) => p.batch);
  while (cached[0] !== null) {
    const steps = await Promise.all(engines.map((e, rank) => e.decode({ batches: [cached[rank]!] })));
    for (const s of steps.slice(1)) assert.deepEqual(s.batch?.requestIds ?? null, steps[0]!.batch?.requestIds ?? null, 'every rank keeps the same requests');
    for (const g of steps[0]!.generations) ids[g.requestId - 1]!.push(...g.tokens.ids);
    cached = steps.map((s) => s.batch);
  }
  return ids;
}

/** Each world size against TP = 1 float32: float32 within 1e-4 and equal greedy ids; float16 within `f16Tol`, greedy ids only where asked. */
async function checkModel(
  model: LoadedModel,
  worlds: number[],
  dtype: ComputeType = 'float32',
  f16: { tol: number; greedy: boolean } = { tol: 0.05, greedy: false },
): Promise<void> {
  const base = await startWorld(model, 1);
  let refLogits: Float32Array[];
  let refIds: number[][];
  try {
    refLogits = await logitTrace(base.runners, model.config.vocabSize);
    refIds = await greedyIds(base.runners);
  } finally {
    await base.close();
  }
  assert.equal(refIds[0]!.length, 12);
  for (const world of worlds) {
    const w = await startWorld(model, world, dtype);
    try {
      for (const r of w.runners) assert.equal(r.dtype, dtype, "the runner reads the pools' type off its segments");
      const logits = await logitTrace(w.runners, model.config.vocabSize);
      const tol = dtype === 'float16' ? f16.tol : 1e-4;
      logits.forEach((l, i) => {
        const d = maxAbsDiff(l, refLogits[i]!);
        assert.ok(d < tol, `TP=${world} ${dtype} step ${i >> 1}: ${i % 2 ? 'log-sum-exps' : 'logits'} differ by ${d}`);
      });
      if (dtype === 'float32' || f16.greedy) assert.deepEqual(await greedyIds(w.runners), refIds, `TP=${world} ${dtype} greedy ids`);
    } finally {
      await w.close();
    }
  }
}

describe('tensor parallelism (runner + collective)', () => {
  test('generated tp4 model: TP = 2 and 4 equal TP = 1 (logits within 1e-4, greedy ids exact)', async () => {
    const dir = path.join(tmp, 'tp4');
    await writeGeneratedModel(dir, { preset: 'tp4' });
    await checkModel(await loadModel(dir), [2, 4]);
  });

  test('KV heads replicated when the shards outnumber them (2 KV heads, TP = 4), tied embeddings, uneven vocabulary', async () => {
    const dir = path.join(tmp, 'tp4-kv2');
    await writeGeneratedModel(dir, { preset: 'tp4', overrides: { numKvHeads: 2, tieWordEmbeddings: true, vocabSize: 1023 } });
    const model = await loadModel(dir);
    assert.equal(model.config.tieWordEmbeddings, true);
    assert.deepEqual(parallelPlan(model.config, 3, 4).kvHeads, { start: 1, count: 1 });
    await checkModel(model, [2, 4]);
  });

  test('float16 segments (float32 between ranks): TP = 2 within 0.05 of TP = 1 float32 on the generated model', async () => {
    const dir = path.join(tmp, 'tp4');
    if (!fs.existsSync(dir)) await writeGeneratedModel(dir, { preset: 'tp4' });
    await checkModel(await loadModel(dir), [2], 'float16', { tol: 0.05, greedy: false });
  });

  test("stories260K float16: TP = 2 gives TP = 1 float32's greedy ids, logits within 0.1", async (t) => {
    if (!fs.existsSync(stories)) return t.skip('stories260K: ../shared not present');
    await checkModel(await loadModel(stories), [2], 'float16', { tol: 0.1, greedy: true });
  });

  test('quantized weights (4-bit with offsets, 8-bit, a tied quantized embedding) sliced on block boundaries: TP = 2 equals TP = 1', async () => {
    const layoutOf = (name: string): RandomQuantLayout | null => {
      if (/(v_proj|down_proj)\.weight$/.test(name)) return { bits: 8, blockSize: 16, offsets: false };
      return /(proj|embed_tokens)\.weight$/.test(name) ? { bits: 4, blockSize: 32, offsets: true } : null;
    };
    const model = randomQuantizedModel({ intermediateSize: 128, tieWordEmbeddings: true }, 5, layoutOf);
    await checkModel(model, [2]);
    // A split that cuts a block is refused, naming the tensor.
    const uneven = randomQuantizedModel({ intermediateSize: 96 }, 5, () => ({ bits: 4, blockSize: 32, offsets: false }));
    await assert.rejects(() => startWorld(uneven, 2), /mlp\.down_proj\.weight: columns (0\.\.48|48\.\.96) do not fall on 32-column quantization blocks/);
  });

  test('stories260K: TP = 2 and 4 equal TP = 1', async (t) => {
    if (!fs.existsSync(stories)) return t.skip('stories260K: ../shared not present');
    await checkModel(await loadModel(stories), [2, 4]);
  });

  test('GPTQ 4-bit (group 32) and AWQ checkpoints, and --quantize int4: TP = 2 equals TP = 1 (quantized slices on block boundaries)', async () => {
    for (const method of ['gptq', 'awq'] as const) {
      const dir = path.join(tmp, `packed-${method}`);
      fs.mkdirSync(dir);
      writePackedHfDir(dir, { ...SMALL_CONFIG, intermediateSize: 128 }, { method });
      await checkModel(await loadHfDir(dir), [2]);
    }
    const dir = path.join(tmp, 'tp4-rtn');
    await writeGeneratedModel(dir, { preset: 'tp4' });
    await checkModel(withLoadTimeQuantization(await loadModel(dir), 'int4'), [2]);
  });
});
