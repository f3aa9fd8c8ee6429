// @module Bench: decode step time at TP = N split into compute and collectives, and per-rank RSS (one process per rank).
// Run: node --import tsx services/shard/src/runner/tp.bench.ts --model DIR [--world 2] [--steps 30] [--past 128] [--threads N] [--cache-dir DIR]
// Rows: decode at batch 1 and 32 (past tokens of context each), and a prefill of 8 prompts × 64 tokens.
// Graphs are kept in --cache-dir (default $TMPDIR/tessera-tp-bench-graphs): run twice so RSS is measured without the build.
import { fork } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '@tessera/model-files';
import { ProcessGroup } from '../collective/group.ts';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import { parallelPlan } from '../weights/shard-weights.ts';
import { ModelRunner } from './model-runner.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const modelDir = arg('model', '');
const world = Number(arg('world', '1'));
const steps = Number(arg('steps', '30'));
const past = Number(arg('past', '128'));
const threadsArg = Number(arg('threads', '0'));
const cacheDir = arg('cache-dir', path.join(os.tmpdir(), 'tessera-tp-bench-graphs'));
const BLOCK = 16;

async function rankMain(rank: number, masterPort: number): Promise<void> {
  const model = await loadModel(modelDir);
  const threads = threadsArg > 0 ? threadsArg : Math.max(1, Math.floor(os.availableParallelism() / world));
  const graph = ensureStepGraph(model, { cacheDir, rank, worldSize: world });
  const group = await ProcessGroup.create({ rank, worldSize: world, masterAddr: '127.0.0.1', masterPort });
  const parallel = world > 1 ? { segmentPaths: graph.segmentPaths, kvHeads: parallelPlan(model.config, rank, world).kvHeads.count, group } : undefined;
  const runner = await ModelRunner.create(graph.onnxPath, model.config, { blockSize: BLOCK, threads, parallel });
  const perSeq = Math.ceil((past + steps + 8) / BLOCK);
  runner.allocate(32 * perSeq);
  const rows: Record<string, number | string>[] = [];
  for (const [batch, prompt] of [
    [1, 0],
    [32, 0],
    [8, 64],
  ] as const) {
    const blocks = Array.from({ length: batch }, (_, i) => Array.from({ length: perSeq }, (_, j) => i * perSeq + j));
    const ids = (i: number, s: number) => Array.from({ length: Math.max(1, prompt) }, (_, k) => (i * 7 + s + k * 13) % model.config.vocabSize);
    const walls: number[] = [];
    const stats = runner.pipeline?.stats;
    let compute0 = 0;
    let coll0 = 0;
    for (let s = 0; s < steps + 3; s++) {
      if (s === 3 && stats) (compute0 = stats.computeNs), (coll0 = stats.collectiveNs);
      const t0 = process.hrtime.bigint();
      await runner.step(blocks.map((b, i) => ({ ids: ids(i, s), start: prompt > 0 ? 0 : past + s, blocks: b, allLogits: false })));
      if (s >= 3) walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    walls.sort((a, b) => a - b);
    const median = walls[Math.floor(walls.length / 2)]!;
    const mean = walls.reduce((a, b) => a + b, 0) / walls.length;
    const computeMs = stats ? (stats.computeNs - compute0) / 1e6 / steps : mean;
    const collMs = stats ? (stats.collectiveNs - coll0) / 1e6 / steps : 0;
    const tokens = batch * Math.max(1, prompt);
    rows.push({
      rank,
      batch: prompt > 0 ? `prefill ${batch}×${prompt}` : batch,
      stepMedianMs: +median.toFixed(2),
      computeMs: +computeMs.toFixed(2),
      collectiveMs: +collMs.toFixed(2),
      tokPerS: Math.round((tokens * 1000) / median),
    });
  }
  const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
  process.send!({ rank, rows, rssMiB, graphReused: graph.reused, allReduces: group.stats.allReduceCount });
  await group.allReduceSum(new Float32Array(1)); // barrier: nobody closes while another still reads
  group.close();
  await runner.release();
}

if (process.env.TP_BENCH_RANK !== undefined) {
  await rankMain(Number(process.env.TP_BENCH_RANK), Number(process.env.TP_BENCH_PORT));
} else {
  if (!modelDir) throw new Error('--model DIR is required (npx tessera generate-model --preset 50m --out DIR)');
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const self = fileURLToPath(import.meta.url);
  const results = await Promise.all(
    Array.from(
      { length: world },
      (_, rank) =>
        new Promise<unknown>((resolve, reject) => {
          const child = fork(self, process.argv.slice(2), {
            execArgv: ['--import', 'tsx'],
            env: { ...process.env, TP_BENCH_RANK: String(rank), TP_BENCH_PORT: String(port) },
          });
          child.once('message', resolve);
          child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`rank ${rank} exited ${code}`))));
        }),
    ),
  );
  console.log(JSON.stringify({ world, steps, past, results }, null, 1));
}
