// @module Bench: decode step time of a sparse MoE model (8 experts, top-2) against the dense model of the same active size.
// Run: node --import tsx services/shard/src/runner/moe.bench.ts [--threads 1] [--rounds 3] [--steps 12] [--experts 8 --topk 2 --ffn 704 --layers 8]
// The models differ only in the MLP: dense intermediate k·F, or E experts of F with top-k routing (the same
// active parameters per token), and the dense model of the experts' total width (E·F). They are measured
// alternately, round by round, so the shared machine's noise falls on all alike (docs/moe.md).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelConfig } from '@tessera/model-files';
import { presetShape, randomLlamaModel } from '@tessera/testing';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import { ModelRunner } from './model-runner.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const threads = arg('threads', 1);
const rounds = arg('rounds', 3);
const steps = arg('steps', 12);
const past = 64;
const BLOCK = 16;
const BATCHES = [1, 8, 32];
const F = arg('ffn', 704);
const E = arg('experts', 8);
const K = arg('topk', 2);

const base: Partial<ModelConfig> = { ...presetShape('50m'), numLayers: arg('layers', 8), maxPositionEmbeddings: 2048 };
const models = {
  [`dense ${K}F (active size)`]: randomLlamaModel({ ...base, intermediateSize: K * F }),
  [`MoE ${E}×F top-${K}`]: randomLlamaModel({
    ...base,
    architecture: 'MixtralForCausalLM',
    intermediateSize: F,
    moe: { numExperts: E, topK: K, expertIntermediateSize: F, normTopK: true, denseLayers: [] },
  }),
  [`dense ${E}F (total size)`]: randomLlamaModel({ ...base, intermediateSize: E * F }),
};

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-moe-bench-'));
try {
  const runners = new Map<string, ModelRunner>();
  for (const [name, model] of Object.entries(models)) {
    const t = Date.now();
    const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1 });
    const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: BLOCK, threads });
    runner.allocate(4096 / BLOCK);
    runners.set(name, runner);
    console.log(`${name}: graph + session in ${Date.now() - t} ms`);
  }
  const times = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const batch of BATCHES) {
      for (const [name, runner] of runners) {
        const perSeq = Math.ceil((past + steps + 4) / BLOCK);
        const blocks = Array.from({ length: batch }, (_, i) => Array.from({ length: perSeq }, (_, j) => i * perSeq + j));
        const key = `${name}|${batch}`;
        for (let s = 0; s < steps + 2; s++) {
          const r = await runner.step(blocks.map((b, i) => ({ ids: [(i * 7 + s) % 32000], start: past + s, blocks: b, allLogits: false })));
          if (s >= 2) times.set(key, [...(times.get(key) ?? []), r.forwardNs / 1e6]);
        }
      }
    }
  }
  console.log(`F ${F}, threads ${threads}, ${rounds} rounds × ${steps} decode steps per batch size, past ${past}`);
  console.log('| model | c=1 ms/token | c=8 tok/s | c=32 tok/s |');
  console.log('|---|---|---|---|');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const name of runners.keys()) {
    const m = BATCHES.map((b) => median(times.get(`${name}|${b}`)!));
    console.log(`| ${name} | ${m[0]!.toFixed(2)} | ${((8 * 1000) / m[1]!).toFixed(0)} | ${((32 * 1000) / m[2]!).toFixed(0)} |`);
  }
  for (const r of runners.values()) await r.release();
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
