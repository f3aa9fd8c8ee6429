// @module Compute types and KV layouts vs the float32 host-KV graph: on the CPU everywhere, on WebGPU where an adapter exists.
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadedModel } from '@tessera/model-files';
import { randomLlamaModel } from '@tessera/testing';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import type { StepGraphOptions } from '../graph/llama.ts';
import type { Device } from './execution-provider.ts';
import { DeviceKvStore } from './kv/device.ts';
import { ModelRunner } from './model-runner.ts';
import { probeOps } from './op-probe.ts';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const stories = path.resolve(repoRoot, '..', 'shared', 'models', 'stories260K', 'hf');
const fixturePath = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'stories260K-greedy.json');
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-devices-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

interface Variant extends StepGraphOptions {
  device: Device;
  /** Host KV fed as only the blocks a step reads (what accelerators with host KV do), forced on the CPU. */
  compact?: boolean;
}

interface Trace {
  /** Logits of a ragged batched prefill (every token) and two batched decodes. */
  logits: Float32Array[];
  /** 24 greedy ids after the prompt. */
  greedy: number[];
  runner: ModelRunner;
}

async function trace(model: LoadedModel, v: Variant, prompt: number[]): Promise<Trace> {
  const graph = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1, graph: { dtype: v.dtype, kvLayout: v.kvLayout } });
  const runner = await ModelRunner.create(graph.onnxPath, model.config, { blockSize: 4, threads: 1, device: v.device, compactHostPools: v.compact });
  assert.deepEqual([runner.dtype, runner.kvLayout], [v.dtype, v.kvLayout], 'the runner reads dtype and layout off the graph');
  const store = v.kvLayout === 'device' ? 'device' : (v.compact ?? v.device !== 'cpu') ? 'compact-host' : 'host';
  assert.equal(runner.kv.kind, store, 'the KV store follows the layout and the device');
  runner.allocate(48);
  const V = model.config.vocabSize;
  const a = [1, 17 % V, 40 % V, 99 % V, 5];
  const b = [1, 300 % V, 7, 8, 9, 10, 11, 12, 13, 200 % V, 3];
  const logits = [
    (
      await runner.step([
        { ids: a, start: 0, blocks: [0, 1], allLogits: true },
        { ids: b, start: 0, blocks: [2, 3, 4, 5], allLogits: true },
      ])
    ).logits,
  ];
  logits.push(
    (
      await runner.step([
        { ids: [42], start: 5, blocks: [0, 1], allLogits: false },
        { ids: [43], start: 11, blocks: [2, 3, 4, 5], allLogits: false },
      ])
    ).logits,
  );
  logits.push(
    (
      await runner.step([
        { ids: [44], start: 6, blocks: [0, 1], allLogits: false },
        { ids: [45], start: 12, blocks: [2, 3, 4, 5], allLogits: false },
      ])
    ).logits,
  );
  const blocks = Array.from({ length: 8 }, (_, i) => 20 + i);
  let res = await runner.step([{ ids: prompt, start: 0, blocks, allLogits: false }]);
  const greedy: number[] = [];
  for (let i = 0; i < 24; i++) {
    let best = 0;
    for (let j = 1; j < V; j++) if (res.logits[j]! > res.logits[best]!) best = j;
    greedy.push(best);
    res = await runner.step([{ ids: [best], start: prompt.length + i, blocks, allLogits: false }]);
  }
  return { logits, greedy, runner };
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => {
    assert.equal(x.length, b[i]!.length);
    for (let k = 0; k < x.length; k++) m = Math.max(m, Math.abs(x[k]! - b[i]![k]!));
  });
  return m;
}

const CPU_F32_HOST: Variant = { device: 'cpu', dtype: 'float32', kvLayout: 'host' };

/** Runs `variants` against CPU float32 host KV: float32 within `f32Tol`, float16 within `f16Tol`; greedy equal where asked. */
async function compare(model: LoadedModel, prompt: number[], variants: Variant[], tol: { f32: number; f16: number; greedyF16: boolean }): Promise<number[]> {
  const ref = await trace(model, CPU_F32_HOST, prompt);
  await ref.runner.release();
  for (const v of variants) {
    const t = await trace(model, v, prompt);
    try {
      const d = maxAbsDiff(t.logits, ref.logits);
      const what = `${v.device} ${v.dtype} ${v.kvLayout} KV${v.compact ? ' (compacted)' : ''}`;
      assert.ok(d <= (v.dtype === 'float16' ? tol.f16 : tol.f32), `${what}: logits differ by ${d}`);
      if (v.dtype === 'float32' || tol.greedyF16) assert.deepEqual(t.greedy, ref.greedy, `${what}: greedy ids`);
    } finally {
      await t.runner.release();
    }
  }
  return ref.greedy;
}

describe('float16 and device-resident KV on the CPU (same graphs a GPU runs)', () => {
  test('random model (GQA 4:2): device KV layout and compacted host pools = host layout; float16 within 0.05 of float32', async () => {
    const model = randomLlamaModel({ numHeads: 4, numKvHeads: 2 });
    await compare(
      model,
      [1, 5, 9, 13, 2, 7],
      [
        { device: 'cpu', dtype: 'float32', kvLayout: 'device' },
        { device: 'cpu', dtype: 'float32', kvLayout: 'host', compact: true },
        { device: 'cpu', dtype: 'float16', kvLayout: 'host', compact: true },
        { device: 'cpu', dtype: 'float16', kvLayout: 'host' },
        { device: 'cpu', dtype: 'float16', kvLayout: 'device' },
      ],
      { f32: 1e-5, f16: 0.05, greedyF16: false },
    );
  });

  test('float16 graphs store half the weight bytes', () => {
    // Every tensor well above the data file's 64 KiB alignment, so padding does not blur the ratio.
    const model = randomLlamaModel({ numLayers: 2, hiddenSize: 256, intermediateSize: 1024, numHeads: 4, numKvHeads: 4, headDim: 64, vocabSize: 4096 });
    const size = (dtype: 'float32' | 'float16') =>
      fs.statSync(`${ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1, graph: { dtype, kvLayout: 'host' } }).onnxPath}.data`).size;
    const ratio = size('float16') / size('float32');
    assert.ok(ratio > 0.45 && ratio < 0.55, `float16 / float32 data file = ${ratio}`);
  });

  test('stories260K: every variant gives the fixture greedy ids; float16 logits within 0.1', async (t) => {
    if (!fs.existsSync(stories)) return t.skip('stories260K: ../shared not present');
    const { loadModel } = await import('@tessera/model-files');
    const fixture = JSON.parse(fs.readFileSync(fixturePath, 'utf8')) as { prompt_ids_with_bos: number[]; greedy_ids: number[] };
    const greedy = await compare(
      await loadModel(stories),
      fixture.prompt_ids_with_bos,
      [
        { device: 'cpu', dtype: 'float32', kvLayout: 'device' },
        { device: 'cpu', dtype: 'float16', kvLayout: 'host' },
        { device: 'cpu', dtype: 'float16', kvLayout: 'device' },
      ],
      { f32: 1e-5, f16: 0.1, greedyF16: true },
    );
    assert.deepEqual(greedy, fixture.greedy_ids.slice(0, 24));
  });
});

/** Null when a WebGPU adapter runs here (a GPU, or Mesa's lavapipe on the CPU); else why not. */
async function webgpuUnavailable(): Promise<string | null> {
  const [probe] = await probeOps('webgpu', 0, ['float32']);
  return probe?.supported ? null : `WebGPU: no adapter here (${probe?.error ?? 'unknown'}); .ci/run installs Mesa's Vulkan driver`;
}

describe('WebGPU (Vulkan): KV pools stay on the device', () => {
  const skipWithout = async (t: TestContext): Promise<boolean> => {
    const why = await webgpuUnavailable();
    if (why !== null) t.skip(why);
    return why !== null;
  };

  test('random model: float32 equals the CPU within 1e-4, float16 within 0.05; pools are GPU buffers', async (t) => {
    if (await skipWithout(t)) return;
    const model = randomLlamaModel({ numHeads: 4, numKvHeads: 2 });
    await compare(
      model,
      [1, 5, 9, 13, 2, 7],
      [
        { device: 'webgpu', dtype: 'float32', kvLayout: 'device' },
        { device: 'webgpu', dtype: 'float16', kvLayout: 'device' },
      ],
      { f32: 1e-4, f16: 0.05, greedyF16: false },
    );
    const graph = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1, graph: { dtype: 'float16', kvLayout: 'device' } });
    const runner = await ModelRunner.create(graph.onnxPath, model.config, { blockSize: 4, device: 'webgpu' });
    try {
      const pools = await runner.warmup(16, 8);
      assert.equal(pools.capacityTokens, 32);
      assert.equal(pools.bytes, 8 * 2 * model.config.numLayers * 4 * model.config.numKvHeads * model.config.headDim * 2);
      assert.ok(runner.kv instanceof DeviceKvStore, 'no host pools');
      const device = await runner.kv.ready();
      const tensors = [...device!.k, ...device!.v];
      assert.equal(tensors.length, 2 * model.config.numLayers);
      for (const p of tensors) assert.equal(p.location, 'gpu-buffer');
    } finally {
      await runner.release();
    }
  });

  test('stories260K: float16 and float32 on WebGPU give the fixture greedy ids', async (t) => {
    if (!fs.existsSync(stories)) return t.skip('stories260K: ../shared not present');
    if (await skipWithout(t)) return;
    const { loadModel } = await import('@tessera/model-files');
    const fixture = JSON.parse(fs.readFileSync(fixturePath, 'utf8')) as { prompt_ids_with_bos: number[]; greedy_ids: number[] };
    await compare(
      await loadModel(stories),
      fixture.prompt_ids_with_bos,
      [
        { device: 'webgpu', dtype: 'float32', kvLayout: 'device' },
        { device: 'webgpu', dtype: 'float16', kvLayout: 'device' },
      ],
      { f32: 1e-4, f16: 0.1, greedyF16: true },
    );
  });
});
