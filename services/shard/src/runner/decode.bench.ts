// @module Bench: decode step time vs batch size and KV pool capacity (random-weight model, real ORT).
// Run: node --import tsx services/shard/src/runner/decode.bench.ts [--threads N] [--past 128] [--steps 20]
//      [--batch B] [--capacity T]: one batch size / KV capacity instead of the whole table (bench/tpot-vs-runner.sh)
//      [--rows]: fetch whole logits rows, as a sampling step does (default: the graph's top-1, as a greedy step)
//      [--model DIR|FILE]: the weights of a model on disk instead of random ones of the 50m shape
//      [--no-arena] [--no-spin] [--affinity 'P;…']: onnxruntime's CPU arena off, its intra-op threads not
//      spinning, its intra-op pool threads pinned (1-based logical processors, one entry per thread after the first)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '@tessera/model-files';
import { presetShape, randomLlamaModel } from '@tessera/testing';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import { ModelRunner } from './model-runner.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const threads = arg('threads', os.availableParallelism());
const past = arg('past', 128);
const steps = arg('steps', 20);
const onlyBatch = arg('batch', 0);
const onlyCapacity = arg('capacity', 0);
const topK = process.argv.includes('--rows') ? null : 1;
const BLOCK = 16;
const affinity = process.argv.indexOf('--affinity');
const extra: Record<string, string> = {
  ...(process.argv.includes('--no-spin') ? { 'session.intra_op.allow_spinning': '0' } : {}),
  ...(affinity !== -1 ? { 'session.intra_op_thread_affinities': process.argv[affinity + 1]! } : {}),
};
const sessionOptions = { ...(process.argv.includes('--no-arena') ? { enableCpuMemArena: false } : {}), ...(Object.keys(extra).length > 0 ? { extra } : {}) };

const modelArg = process.argv.indexOf('--model');
const model = modelArg === -1 ? randomLlamaModel({ ...presetShape('50m'), maxPositionEmbeddings: 2048 }) : await loadModel(process.argv[modelArg + 1]!);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
try {
  let t = Date.now();
  const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1 });
  console.log(`graph built in ${Date.now() - t} ms`);
  t = Date.now();
  const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: BLOCK, threads, sessionOptions });
  console.log(
    `session created in ${Date.now() - t} ms (threads ${threads}${Object.keys(sessionOptions).length > 0 ? `, ${JSON.stringify(sessionOptions)}` : ''})`,
  );

  for (const capacity of onlyCapacity > 0 ? [onlyCapacity] : [1024, 16384, 131072]) {
    const numBlocks = capacity / BLOCK;
    runner.allocate(numBlocks);
    for (const batch of onlyBatch > 0 ? [onlyBatch] : [1, 8, 32, 64]) {
      const perSeq = Math.ceil((past + steps + 8) / BLOCK);
      const blocks = Array.from({ length: batch }, (_, i) => Array.from({ length: perSeq }, (_, j) => (i * perSeq + j) % numBlocks));
      const times: number[] = [];
      for (let s = 0; s < steps + 3; s++) {
        const r = await runner.step(
          blocks.map((b, i) => ({ ids: [(i * 7 + s) % model.config.vocabSize], start: past + s, blocks: b, allLogits: false })),
          topK,
        );
        if (s >= 3) times.push(r.forwardNs / 1e6);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      console.log(
        `capacity ${capacity} tokens, batch ${batch}, past ${past}: decode step median ${median.toFixed(2)} ms (min ${times[0]!.toFixed(2)}, ${((batch * 1000) / median).toFixed(0)} tok/s)`,
      );
    }
  }
  const prefillTimes: number[] = [];
  runner.allocate(1024 / BLOCK);
  for (let s = 0; s < 4; s++) {
    const r = await runner.step([
      { ids: Array.from({ length: 512 }, (_, i) => i), start: 0, blocks: Array.from({ length: 32 }, (_, i) => i), allLogits: false },
    ]);
    prefillTimes.push(r.forwardNs / 1e6);
  }
  console.log(`prefill 512 tokens: ${Math.min(...prefillTimes).toFixed(1)} ms`);
  await runner.release();
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
