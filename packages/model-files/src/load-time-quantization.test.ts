import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGgufModel } from './gguf-model.ts';
import { expandBlockAffine } from './block-affine.ts';
import { loadHfDir } from './hf-dir.ts';
import { parseQuantizeMode, withLoadTimeQuantization } from './load-time-quantization.ts';
import { writePackedHfDir } from './packed-checkpoint.test-helper.ts';
import { quantizeRtn } from './rtn-quantize.ts';
import { tempDir, tinyConfig, writeTinyHfDir } from './tiny-model.test-helper.ts';
import { ModelLoadError } from './types.ts';
import { summarizeWeights } from './weight-summary.ts';

const config = tinyConfig({ hiddenSize: 64, intermediateSize: 96, numHeads: 4, numKvHeads: 2, headDim: 16, vocabSize: 32 });

function recorder() {
  const lines: Array<{ fields: object; message: string }> = [];
  return { lines, log: { info: (fields: object, message: string) => void lines.push({ fields, message }) } };
}

test('parseQuantizeMode accepts int8, int4, gptq, awq and names the flag otherwise', () => {
  for (const mode of ['int8', 'int4', 'gptq', 'awq']) assert.equal(parseQuantizeMode(mode), mode);
  assert.throws(() => parseQuantizeMode('fp8'), /^Error: --quantize must be one of int8, int4, gptq, awq, got "fp8"$/);
});

test('int4 / int8 on a float checkpoint: Linear weights become RTN blocks of 32, the rest stays float, the digest changes', async (t) => {
  const dir = tempDir(t);
  const tensors = writeTinyHfDir(dir, config);
  const float = await loadHfDir(dir);
  const digests = new Set([float.digest]);
  for (const mode of ['int8', 'int4'] as const) {
    const model = withLoadTimeQuantization(float, mode);
    digests.add(model.digest);
    for (const name of model.tensorNames()) {
      const original = tensors.get(name)!;
      const q = model.quantized!(name);
      if (/_proj\.weight$/.test(name)) {
        const [rows, cols] = original.shape as [number, number];
        assert.deepEqual(q, quantizeRtn(original.data, rows, cols, mode === 'int8' ? 8 : 4, 32), name);
        assert.deepEqual(model.tensor(name), { shape: original.shape, data: expandBlockAffine(q!) });
        assert.equal(model.tensorType!(name), `RTN-${mode}`);
      } else {
        assert.equal(q, null, name);
        assert.deepEqual(model.tensor(name), original, name);
        assert.equal(model.tensorType!(name), 'F32');
      }
    }
    const summary = summarizeWeights(model);
    assert.equal(summary.quantized, true);
    assert.equal(summary.tensorTypes[`RTN-${mode}`], 14);
  }
  assert.equal(digests.size, 3, 'float, int8 and int4 graphs must not share a cache entry');
  assert.equal(withLoadTimeQuantization(float, null), float);
});

test('matrices whose rows are not whole 32-blocks stay float, and the log says how many', async (t) => {
  const dir = tempDir(t);
  writeTinyHfDir(dir, tinyConfig({ hiddenSize: 64, intermediateSize: 40, numHeads: 4, numKvHeads: 2, headDim: 16 }));
  const { lines, log } = recorder();
  const model = withLoadTimeQuantization(await loadHfDir(dir), 'int8', log);
  assert.equal(model.quantized!('model.layers.0.mlp.down_proj.weight'), null);
  assert.notEqual(model.quantized!('model.layers.0.mlp.up_proj.weight'), null);
  assert.match(
    lines[0]!.message,
    /^--quantize int8: 2 matrices whose rows are not a multiple of 32 stay float \(e\.g\. model\.layers\.0\.mlp\.down_proj\.weight\)$/,
  );
});

test('gptq / awq require a checkpoint quantized so; int4 on an already quantized checkpoint keeps its own quantization', async (t) => {
  const floatDir = tempDir(t);
  writeTinyHfDir(floatDir, config);
  const float = await loadHfDir(floatDir);
  assert.throws(
    () => withLoadTimeQuantization(float, 'gptq'),
    (e: unknown) =>
      e instanceof ModelLoadError &&
      /--quantize gptq needs a checkpoint quantized with GPTQ, but its Linear weights are F32; for a float checkpoint use --quantize int8 or int4$/.test(
        e.message,
      ),
  );

  const gptqDir = tempDir(t);
  writePackedHfDir(gptqDir, config, { method: 'gptq' });
  const gptq = await loadHfDir(gptqDir);
  assert.equal(withLoadTimeQuantization(gptq, 'gptq'), gptq);
  assert.throws(() => withLoadTimeQuantization(gptq, 'awq'), /--quantize awq needs a checkpoint quantized with AWQ, but its Linear weights are GPTQ-4bit/);
  const { lines, log } = recorder();
  assert.equal(withLoadTimeQuantization(gptq, 'int4', log), gptq);
  assert.equal(lines[0]!.message, '--quantize int4: the checkpoint is already quantized (GPTQ-4bit); its own quantization is used');
});

test("int4 on llama.cpp's Q4_K_M GGUF (../shared) keeps the file's blocks and says so; on its F32 original it quantizes", async (t) => {
  const dir = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'models', 'quantized');
  if (!fs.existsSync(path.join(dir, 'small-Q4_K_M.gguf'))) return t.skip('../shared/models/quantized not present');
  const q4km = await loadGgufModel(path.join(dir, 'small-Q4_K_M.gguf'));
  const { lines, log } = recorder();
  assert.equal(withLoadTimeQuantization(q4km, 'int4', log), q4km);
  assert.equal(lines[0]!.message, '--quantize int4: the checkpoint is already quantized (Q4_K); its own quantization is used');
  const f32 = withLoadTimeQuantization(await loadGgufModel(path.join(dir, 'small-F32.gguf')), 'int4');
  assert.equal(summarizeWeights(f32).tensorTypes['RTN-int4'], 14);
});
