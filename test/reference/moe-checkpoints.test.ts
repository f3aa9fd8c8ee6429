// @module Tiny Mixtral and Qwen3-MoE checkpoints on disk (HF directory, GGUF F32, Q8_0, Q4_K) load, run and match the fp64 reference (llama-fp64.ts with moe-fp64.ts) at TP = 1 and 2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel, type LoadedModel } from '@tessera/model-files';
import { moeCheckpointModel, type MoeCheckpointName, writeMoeCheckpoint } from './moe-checkpoint.ts';
import { checkAgainstReference, startRunners, TOLERANCE } from './step-compare.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-moe-ckpt-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Greedy ids of one prompt, one runner (argmax of each step's logits). */
async function greedy(model: LoadedModel, prompt: number[], steps: number): Promise<number[]> {
  const { runners, close } = await startRunners(path.join(root, 'graphs'), model, 1, 'float32');
  const runner = runners[0]!;
  try {
    runner.allocate(16);
    const blocks = [0, 1, 2, 3, 4, 5, 6, 7];
    const argmax = (l: Float32Array) => l.reduce((best, v, i) => (v > l[best]! ? i : best), 0);
    const out: number[] = [];
    let r = await runner.step([{ ids: prompt, start: 0, blocks, allLogits: false }]);
    for (let s = 0; s < steps; s++) {
      out.push(argmax(r.logits));
      r = await runner.step([{ ids: [out.at(-1)!], start: prompt.length + s, blocks, allLogits: false }]);
    }
    return out;
  } finally {
    await close();
  }
}

for (const name of ['mixtral', 'qwen3moe'] as MoeCheckpointName[]) {
  describe(`${name} checkpoint: HF and GGUF forms`, () => {
    let files: Awaited<ReturnType<typeof writeMoeCheckpoint>>;
    const graphs = path.join(root, 'graphs');
    before(async () => {
      files = await writeMoeCheckpoint(name, path.join(root, name), ['Q8_0', 'Q4_K', 'Q4_K_M']);
    });

    test('the HF directory loads as the family (config.json keys → the same MoE config) and matches the reference within 1e-4 at TP = 1 and 2, ragged batch and single sequence', async () => {
      const hf = await loadModel(files.hf);
      const expected = moeCheckpointModel(name).config;
      assert.equal(hf.config.architecture, expected.architecture);
      assert.deepEqual(hf.config.moe, expected.moe);
      assert.equal(hf.config.qkNorm, expected.qkNorm);
      for (const world of [1, 2]) {
        await checkAgainstReference(graphs, hf, world);
        await checkAgainstReference(graphs, hf, world, TOLERANCE, 'float32', 'single');
      }
    });

    test('the F32 GGUF (stacked *_exps tensors) loads as the family and matches the reference within 1e-4; greedy equals the HF form', async () => {
      const gguf = await loadModel(files.gguf);
      const hf = await loadModel(files.hf);
      assert.equal(gguf.config.architecture, hf.config.architecture);
      assert.deepEqual(gguf.config.moe, hf.config.moe);
      await checkAgainstReference(graphs, gguf, 1);
      const prompt = [12, 200, 31, 7, 99];
      assert.deepEqual(await greedy(gguf, prompt, 12), await greedy(hf, prompt, 12));
    });

    test("Q4_K_M: the down-projection stacks one step up (Q6_K), like ffn_down in this preset; within 1e-4 of the file's values", async () => {
      const model = await loadModel(files.quantized['Q4_K_M']!);
      const names = model.tensorNames();
      assert.equal(model.tensorType!(names.find((n) => /experts\.1\.(w2|down_proj)\.weight$/.test(n))!), 'Q6_K');
      assert.equal(model.tensorType!(names.find((n) => /experts\.1\.(w1|gate_proj)\.weight$/.test(n))!), 'Q4_K');
      await checkAgainstReference(graphs, model, 1);
    });

    for (const preset of ['Q8_0', 'Q4_K'] as const) {
      test(`${preset}: experts stay quantized (router float, as llama-quantize keeps it) and match the reference of the file's values within 1e-4`, async () => {
        const model = await loadModel(files.quantized[preset]!);
        const names = model.tensorNames();
        const expert = names.find((n) => /experts\.0\.(w1|gate_proj)\.weight$/.test(n))!;
        const router = names.find((n) => /\.gate\.weight$/.test(n))!;
        assert.equal(model.tensorType!(expert), preset);
        assert.ok(model.quantized!(expert) !== null, 'the expert is kept quantized');
        assert.equal(model.tensorType!(router), 'F32');
        await checkAgainstReference(graphs, model, 1);
        await checkAgainstReference(graphs, model, 2);
      });
    }
  });
}
