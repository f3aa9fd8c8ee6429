// @module Bench: --quantize int8 / int4 against float32 on one random Llama: load-time cost, weight bytes, batch-1 and batch-16 decode.
// Run: node --import tsx services/shard/src/runner/quantize.bench.ts [--threads N] [--accuracy int8|float32] [--modes float32,int8,int4]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withLoadTimeQuantization, type QuantizeMode } from '@tessera/model-files';
import { randomLlamaModel } from '@tessera/testing';
import { ensureStepGraph, graphWeightBytes } from '../graph/graph-cache.ts';
import type { QuantAccuracy } from '../graph/linear.ts';
import { ModelRunner } from './model-runner.ts';

const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const threads = Number(flag('threads', String(os.availableParallelism())));
const quantAccuracy = flag('accuracy', 'int8') as QuantAccuracy;
const BLOCK = 16;
const PAST = 128;

// ~160 M parameters (Linear 93 M): big enough that weight bandwidth dominates a batch-1 step.
const base = randomLlamaModel({
  hiddenSize: 1024,
  numLayers: 8,
  numHeads: 16,
  numKvHeads: 8,
  headDim: 64,
  vocabSize: 32000,
  intermediateSize: 2816,
  maxPositionEmbeddings: 2048,
});
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-quantize-bench-'));
try {
  const modes = flag('modes', 'float32,int8,int4')
    .split(',')
    .map((m) => (m === 'float32' ? null : (m as QuantizeMode)));
  for (const mode of modes) {
    const model = withLoadTimeQuantization(base, mode);
    let t = Date.now();
    const graph = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1, graph: { dtype: 'float32', kvLayout: 'host', quantAccuracy } });
    const buildMs = Date.now() - t;
    t = Date.now();
    const runner = await ModelRunner.create(graph.onnxPath, model.config, { blockSize: BLOCK, threads });
    const sessionMs = Date.now() - t;
    runner.allocate(1024 / BLOCK);
    const line: string[] = [];
    for (const batch of [1, 16]) {
      const perSeq = Math.ceil((PAST + 32) / BLOCK);
      const blocks = Array.from({ length: batch }, (_, i) => Array.from({ length: perSeq }, (_, j) => (i * perSeq + j) % (1024 / BLOCK)));
      const times: number[] = [];
      for (let s = 0; s < 23; s++) {
        const r = await runner.step(blocks.map((b, i) => ({ ids: [(i * 7 + s) % 32000], start: PAST + s, blocks: b, allLogits: false })));
        if (s >= 3) times.push(r.forwardNs / 1e6);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      // The minimum too: on a shared machine it is the steadier of the two.
      line.push(`batch ${batch}: median ${median.toFixed(1)} ms/step, min ${times[0]!.toFixed(1)} ms (${((batch * 1000) / times[0]!).toFixed(0)} tok/s)`);
    }
    await runner.release();
    console.log(
      `${mode ?? 'float32'} (accuracy ${quantAccuracy}): graph built in ${buildMs} ms, session ${sessionMs} ms, weights ${(graphWeightBytes(graph) / 2 ** 20).toFixed(0)} MiB; ${line.join('; ')}`,
    );
  }
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
