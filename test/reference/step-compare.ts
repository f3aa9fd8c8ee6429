// @module Test harness: a model's runners (TP = 1 or N in one process) over a ragged (or single-sequence) prefill + decode, checked against the fp64 reference (packages/testing/src/llama-fp64.ts, whose MoE MLP is moe-fp64.ts).
import assert from 'node:assert/strict';
import type { LoadedModel } from '@tessera/model-files';
import { ProcessGroup } from '../../services/shard/src/collective/group.ts';
import { ensureStepGraph } from '../../services/shard/src/graph/graph-cache.ts';
import type { QuantAccuracy } from '../../services/shard/src/graph/linear.ts';
import type { ComputeType } from '../../services/shard/src/graph/llama.ts';
import { ModelRunner } from '../../services/shard/src/runner/model-runner.ts';
import { parallelPlan } from '../../services/shard/src/weights/shard-weights.ts';
import { freePort } from '../helpers/ports.ts';
import { ReferenceCache, ReferenceLlama } from '@tessera/testing';

export const TOLERANCE = 1e-4;

export const PROMPTS = [
  [5, 17, 33, 4, 9, 100, 3],
  [42, 8, 199],
];
export const DECODE = [
  [11, 12, 13],
  [150, 0, 7],
];
const BLOCKS = [
  [9, 2, 14, 3],
  [5, 11, 0, 8],
];

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Prefill both prompts in one ragged batch (every row's logits), then decode them together: logits[seq][token]. */
export async function runBatched(runners: ModelRunner[], V: number): Promise<Float32Array[][]> {
  const out: Float32Array[][] = PROMPTS.map(() => []);
  const step = (seqs: Parameters<ModelRunner['step']>[0]) => Promise.all(runners.map((r) => r.step(seqs))).then((all) => all[0]!);
  const pre = await step(PROMPTS.map((ids, i) => ({ ids, start: 0, blocks: BLOCKS[i]!, allLogits: true })));
  PROMPTS.forEach((ids, i) => ids.forEach((_, t) => out[i]!.push(pre.logits.slice((pre.logitOffsets[i]! + t) * V, (pre.logitOffsets[i]! + t + 1) * V))));
  for (let s = 0; s < DECODE[0]!.length; s++) {
    const r = await step(PROMPTS.map((p, i) => ({ ids: [DECODE[i]![s]!], start: p.length + s, blocks: BLOCKS[i]!, allLogits: false })));
    PROMPTS.forEach((_, i) => out[i]!.push(r.logits.slice(r.logitOffsets[i]! * V, (r.logitOffsets[i]! + 1) * V)));
  }
  return out;
}

/** The first prompt alone (a batch of one: no ragged offsets), every prefill row's logits, then its decode tokens one step each. */
export async function runSingle(runners: ModelRunner[], V: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const step = (seqs: Parameters<ModelRunner['step']>[0]) => Promise.all(runners.map((r) => r.step(seqs))).then((all) => all[0]!);
  const prompt = PROMPTS[0]!;
  const pre = await step([{ ids: prompt, start: 0, blocks: BLOCKS[0]!, allLogits: true }]);
  prompt.forEach((_, t) => out.push(pre.logits.slice(t * V, (t + 1) * V)));
  for (const [s, id] of DECODE[0]!.entries()) {
    const r = await step([{ ids: [id], start: prompt.length + s, blocks: BLOCKS[0]!, allLogits: false }]);
    out.push(r.logits.slice(0, V));
  }
  return out;
}

/** Every rank of a world in this process (real sockets), as tensor-parallel.test.ts does. */
export async function startRunners(
  cacheDir: string,
  model: LoadedModel,
  world: number,
  quantAccuracy: QuantAccuracy,
  dtype: ComputeType = 'float32',
): Promise<{ runners: ModelRunner[]; close(): Promise<void> }> {
  if (world === 1) {
    const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1, graph: { dtype, kvLayout: 'host', quantAccuracy } });
    const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: 4, threads: 1 });
    return { runners: [runner], close: () => runner.release() };
  }
  const masterPort = await freePort();
  const groups = await Promise.all(
    Array.from({ length: world }, (_, rank) =>
      ProcessGroup.create({ rank, worldSize: world, masterAddr: '127.0.0.1', masterPort, timeoutMs: 20_000, rendezvousTimeoutMs: 20_000 }),
    ),
  );
  const runners = await Promise.all(
    groups.map((group, rank) => {
      const graph = ensureStepGraph(model, { cacheDir, rank, worldSize: world, graph: { dtype, kvLayout: 'host', quantAccuracy } });
      return ModelRunner.create(graph.onnxPath, model.config, {
        blockSize: 4,
        threads: 1,
        parallel: { segmentPaths: graph.segmentPaths, kvHeads: parallelPlan(model.config, rank, world).kvHeads.count, group },
      });
    }),
  );
  return {
    runners,
    async close() {
      for (const g of groups) g.close();
      for (const r of runners) await r.release();
    },
  };
}

/** The reference logits of every prompt and decode token, and the smallest top-k margin any routed row had. */
export function referenceOf(model: LoadedModel): { expected: Float64Array[][]; reference: ReferenceLlama } {
  const reference = new ReferenceLlama(model);
  return { reference, expected: PROMPTS.map((p, i) => reference.forward([...p, ...DECODE[i]!], new ReferenceCache(model.config.numLayers))) };
}

/**
 * The ragged batch of both prompts (prefill, then decode), or with `single` the first prompt alone, against the fp64
 * reference. Quantized experts run with float32 activations (MatMulNBits accuracy 0): the int8 default is measured in
 * docs/quantization.md.
 */
export async function checkAgainstReference(
  cacheDir: string,
  model: LoadedModel,
  world: number,
  tolerance = TOLERANCE,
  dtype: ComputeType = 'float32',
  batch: 'ragged' | 'single' = 'ragged',
): Promise<void> {
  const { expected } = referenceOf(model);
  const { runners, close } = await startRunners(cacheDir, model, world, 'float32', dtype);
  try {
    for (const r of runners) r.allocate(16);
    const got = batch === 'ragged' ? await runBatched(runners, model.config.vocabSize) : [await runSingle(runners, model.config.vocabSize)];
    got.forEach((seq, i) =>
      seq.forEach((logits, t) => {
        const diff = maxAbsDiff(logits, expected[i]![t]!);
        assert.ok(diff <= tolerance, `TP=${world} ${batch} seq ${i} token ${t}: max |Δ| ${diff}`);
      }),
    );
  } finally {
    await close();
  }
}
