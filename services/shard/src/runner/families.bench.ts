// @module Bench: decode tok/s of each family at one shape (random weights, real ORT), families alternated per round so load drifts hit all alike.
// Run: node --import tsx services/shard/src/runner/families.bench.ts [--threads N] [--rounds 3] [--steps 10] [--past 128]
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
const threads = arg('threads', os.availableParallelism());
const rounds = arg('rounds', 3);
const steps = arg('steps', 10);
const past = arg('past', 128);
const BLOCK = 16;
const L = 8;

// The 50m preset's shape (56 M parameters) for every family; windows of 64 < past, so sliding layers mask.
const SHAPE: Partial<ModelConfig> = { ...presetShape('50m'), numLayers: L, maxPositionEmbeddings: 2048 };
const gemma = { normPlacement: 'sandwich', gemmaNorms: true, queryPreAttnScalar: 64, slidingWindow: 64, tieWordEmbeddings: true } as const;
const FAMILIES: Record<string, Partial<ModelConfig>> = {
  llama: {},
  mistral: { architecture: 'MistralForCausalLM', slidingWindow: 64 },
  qwen3: { architecture: 'Qwen3ForCausalLM', qkNorm: 'head', tieWordEmbeddings: true },
  smollm3: { architecture: 'SmolLM3ForCausalLM', ropeLayers: Array.from({ length: L }, (_, l) => (l + 1) % 4 !== 0) },
  olmo2: { architecture: 'Olmo2ForCausalLM', qkNorm: 'projection', normPlacement: 'post' },
  phi3: {
    architecture: 'Phi3ForCausalLM',
    rotaryDim: 48,
    ropeScaling: { type: 'longrope', shortFactor: Array(24).fill(1), longFactor: Array(24).fill(2), originalMaxPositionEmbeddings: 1024, attentionFactor: 1.1 },
  },
  gemma2: {
    ...gemma,
    architecture: 'Gemma2ForCausalLM',
    attnLogitSoftcap: 50,
    finalLogitSoftcap: 30,
    slidingLayers: Array.from({ length: L }, (_, l) => l % 2 === 0),
  },
  gemma3: {
    ...gemma,
    architecture: 'Gemma3ForCausalLM',
    qkNorm: 'head',
    localRopeTheta: 10000,
    ropeTheta: 1e6,
    slidingLayers: Array.from({ length: L }, (_, l) => l % 6 < 5),
  },
};

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-families-bench-'));
try {
  const runners = new Map<string, ModelRunner>();
  for (const [name, config] of Object.entries(FAMILIES)) {
    const model = randomLlamaModel({ ...SHAPE, ...config }, 3);
    const runner = await ModelRunner.create(ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1 }).onnxPath, model.config, { blockSize: BLOCK, threads });
    runner.allocate(4096 / BLOCK);
    runners.set(name, runner);
  }
  const results = new Map<string, Record<number, number[]>>();
  // Round 0 warms every session up and is not counted.
  for (let round = 0; round <= rounds; round++) {
    for (const [name, runner] of runners) {
      for (const batch of [1, 32]) {
        const perSeq = Math.ceil((past + steps + 4) / BLOCK);
        const blocks = Array.from({ length: batch }, (_, i) => Array.from({ length: perSeq }, (_, j) => (i * perSeq + j) % (4096 / BLOCK)));
        const times: number[] = [];
        for (let s = 0; s < steps + 2; s++) {
          const r = await runner.step(blocks.map((b, i) => ({ ids: [(i * 7 + s) % 32000], start: past + s, blocks: b, allLogits: false })));
          if (s >= 2) times.push(r.forwardNs / 1e6);
        }
        times.sort((a, b) => a - b);
        if (round === 0) continue;
        const entry = results.get(name) ?? { 1: [], 32: [] };
        entry[batch]!.push((batch * 1000) / times[Math.floor(times.length / 2)]!);
        results.set(name, entry);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = results.get('llama')!;
  console.log(`| family | decode tok/s, batch 1 | vs llama | decode tok/s, batch 32 | vs llama |`);
  console.log(`|---|---|---|---|---|`);
  for (const [name, r] of results) {
    const b1 = median(r[1]!);
    const b32 = median(r[32]!);
    console.log(`| ${name} | ${b1.toFixed(0)} | ${(b1 / median(base[1]!)).toFixed(2)} | ${b32.toFixed(0)} | ${(b32 / median(base[32]!)).toFixed(2)} |`);
  }
  for (const runner of runners.values()) await runner.release();
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
