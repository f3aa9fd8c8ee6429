// @module `npm run device-check -- MODEL [DEVICES] [FIXTURE]`: greedy ids and logits of each device × dtype against CPU float32.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '@tessera/model-files';
import { ensureStepGraph } from '../services/shard/src/graph/graph-cache.ts';
import type { ComputeType, KvLayout } from '../services/shard/src/graph/step-io.ts';
import type { Device } from '../services/shard/src/runner/execution-provider.ts';
import { ModelRunner } from '../services/shard/src/runner/model-runner.ts';

const USAGE = `usage: npm run device-check -- MODEL_DIR_OR_GGUF [DEVICES] [FIXTURE.json]
  DEVICES   comma-separated accelerators to compare with the CPU (default webgpu; cuda needs its libraries)
  FIXTURE   a greedy fixture ({prompt_ids_with_bos, greedy_ids}) to check the ids against as well
Prints one JSON line per (device, dtype, KV layout): the largest |logit| difference from CPU float32
over a ragged batched prefill and two decodes, and whether 32 greedy ids equal CPU float32's.`;

interface Variant {
  device: Device;
  dtype: ComputeType;
  kvLayout: KvLayout;
}

const [modelPath, deviceList = 'webgpu', fixturePath] = process.argv.slice(2);
if (!modelPath || modelPath === '--help' || modelPath === '-h') {
  console.log(USAGE);
  process.exit(modelPath ? 0 : 2);
}
const fixture = fixturePath ? (JSON.parse(fs.readFileSync(fixturePath, 'utf8')) as { prompt_ids_with_bos: number[]; greedy_ids: number[] }) : null;
const model = await loadModel(modelPath);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-device-check-'));
const variants: Variant[] = [
  { device: 'cpu', dtype: 'float32', kvLayout: 'host' },
  { device: 'cpu', dtype: 'float16', kvLayout: 'host' },
];
for (const device of deviceList.split(',').filter(Boolean) as Device[]) {
  for (const dtype of ['float16', 'float32'] as const) variants.push({ device, dtype, kvLayout: device === 'webgpu' ? 'device' : 'host' });
}

const V = model.config.vocabSize;
const argmax = (row: Float32Array) => row.reduce((best, x, j) => (x > row[best]! ? j : best), 0);
let ref: { logits: Float32Array[]; ids: number[] } | null = null;
for (const v of variants) {
  const started = Date.now();
  try {
    const graph = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1, graph: { dtype: v.dtype, kvLayout: v.kvLayout } });
    const runner = await ModelRunner.create(graph.onnxPath, model.config, { blockSize: 16, device: v.device });
    runner.allocate(64);
    const a = [1, 17 % V, 40 % V, 99 % V, 5];
    const b = [1, 300 % V, 7, 8, 9, 10, 11, 12, 13, 200 % V, 3];
    const logits = [
      (
        await runner.step([
          { ids: a, start: 0, blocks: [0], allLogits: true },
          { ids: b, start: 0, blocks: [2], allLogits: true },
        ])
      ).logits,
    ];
    logits.push(
      (
        await runner.step([
          { ids: [42], start: 5, blocks: [0], allLogits: false },
          { ids: [43], start: 11, blocks: [2], allLogits: false },
        ])
      ).logits,
    );
    logits.push(
      (
        await runner.step([
          { ids: [44], start: 6, blocks: [0], allLogits: false },
          { ids: [45], start: 12, blocks: [2], allLogits: false },
        ])
      ).logits,
    );
    const prompt = fixture?.prompt_ids_with_bos ?? [1, 403 % V, 407 % V, 261 % V, 378 % V];
    const blocks = [10, 11, 12];
    let res = await runner.step([{ ids: prompt, start: 0, blocks, allLogits: false }]);
    const ids: number[] = [];
    for (let i = 0; i < 32; i++) {
      ids.push(argmax(res.logits));
      if (i < 31) res = await runner.step([{ ids: [ids[i]!], start: prompt.length + i, blocks, allLogits: false }]);
    }
    await runner.release();
    ref ??= { logits, ids };
    let diff = 0;
    logits.forEach((l, i) => l.forEach((x, k) => (diff = Math.max(diff, Math.abs(x - ref!.logits[i]![k]!)))));
    const line = {
      ...v,
      maxAbsLogitDiffVsCpuF32: diff,
      idsEqualCpuF32: ids.every((x, i) => x === ref!.ids[i]),
      idsEqualFixture: fixture ? fixture.greedy_ids.every((x, i) => x === ids[i]) : null,
      ms: Date.now() - started,
      ids: ids.join(','),
    };
    console.log(JSON.stringify(line));
  } catch (err) {
    console.log(JSON.stringify({ ...v, error: (err as Error).message }));
  }
}
fs.rmSync(cacheDir, { recursive: true, force: true });
