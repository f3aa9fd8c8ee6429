// @module Bench: a greedy decode step fetching whole logits rows (then argmax in JS) against the graph's top-1, alternated in one process.
// Run: node --import tsx services/shard/src/runner/logit-selection.bench.ts [--threads N] [--steps 40]
// (50m shape: hidden 512, 8 layers, vocabulary 32000; batch 1 and 32, docs/benchmarks.md)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { presetShape, randomLlamaModel } from '@tessera/testing';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import { argmax } from '../sampler/sampler.ts';
import { ModelRunner } from './model-runner.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const threads = arg('threads', Math.max(1, os.availableParallelism() - 1));
const steps = arg('steps', 40);
const BLOCK = 16;
const model = randomLlamaModel({ ...presetShape('50m'), maxPositionEmbeddings: 2048 });
const V = model.config.vocabSize;
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
try {
  const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1 });
  const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: BLOCK, threads });
  runner.allocate(1024);
  for (const batch of [1, 32]) {
    const blocks = Array.from({ length: batch }, (_, i) => Array.from({ length: 8 }, (_, j) => i * 8 + j));
    const times = { rows: [] as number[], top: [] as number[] };
    for (let s = 0; s < steps + 5; s++) {
      for (const mode of ['rows', 'top'] as const) {
        const seqs = blocks.map((b, i) => ({ ids: [(i * 7 + s) % V], start: 64 + (s % 32), blocks: b, allLogits: false }));
        const started = process.hrtime.bigint();
        if (mode === 'rows') {
          const { logits } = await runner.step(seqs);
          for (let q = 0; q < batch; q++) argmax(logits.subarray(q * V, (q + 1) * V));
        } else await runner.step(seqs, 1);
        if (s >= 5) times[mode].push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }
    const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
    const [rows, top] = [median(times.rows), median(times.top)];
    console.log(
      `batch ${batch} (threads ${threads}): whole rows + argmax ${rows.toFixed(2)} ms, top-1 in the graph ${top.toFixed(2)} ms (${(top / rows).toFixed(2)}×)`,
    );
  }
  await runner.release();
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
