import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkBlockAffine, expandBlockAffine } from './block-affine.ts';
import { decodePackedLinear, blockSizeForGroup } from './gptq-awq-decode.ts';
import { loadHfDir } from './hf-dir.ts';
import { intLinearValues, packAwq, packGptq, randomIntLinear, writePackedHfDir, type PackedDirOptions } from './packed-checkpoint.test-helper.ts';
import { summarizeWeights } from './weight-summary.ts';
import { tempDir, tinyConfig } from './tiny-model.test-helper.ts';
import { ModelLoadError, type ModelConfig } from './types.ts';

/** Hidden 64, FFN 96 (three 32-groups; not a power of two), GQA 4/2 heads of 16. */
const config: ModelConfig = tinyConfig({ hiddenSize: 64, intermediateSize: 96, numHeads: 4, numKvHeads: 2, headDim: 16, vocabSize: 32, numLayers: 2 });

async function assertLoadError(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadHfDir(dir), (e: unknown) => {
    assert.ok(e instanceof ModelLoadError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

const CASES: Array<[string, PackedDirOptions, string, number]> = [
  ['GPTQ 4-bit asymmetric, classic v1 zeros (z − 1 stored), group 32', { method: 'gptq' }, 'GPTQ-4bit', 32],
  ['GPTQ 4-bit, gptq_v2 zeros (z stored), group 32', { method: 'gptq_v2', groupSize: 32 }, 'GPTQ-4bit', 32],
  ['GPTQ 8-bit asymmetric, group 32', { method: 'gptq', bits: 8 }, 'GPTQ-8bit', 32],
  ['GPTQ 4-bit per-row groups (group_size -1): re-blocked to the largest power of two dividing in', { method: 'gptq', groupSize: -1 }, 'GPTQ-4bit', 0],
  ['AWQ 4-bit GEMM, group 32', { method: 'awq' }, 'AWQ-4bit', 32],
];

for (const [name, options, type, blockSize] of CASES) {
  test(`${name}: every Linear decodes to exactly s · (q − z) of the packed integers`, async (t) => {
    const dir = tempDir(t);
    const truth = writePackedHfDir(dir, config, options);
    const model = await loadHfDir(dir);
    assert.equal(truth.size, config.numLayers * 7);
    for (const [tensor, values] of truth) {
      const q = model.quantized!(tensor)!;
      assert.ok(q, tensor);
      checkBlockAffine(q, tensor);
      const [out, inFeatures] = [q.rows, q.cols];
      assert.equal(q.blockSize, blockSize || blockSizeForGroup(inFeatures), tensor);
      assert.deepEqual(expandBlockAffine(q), values, `${tensor}: decoded values`);
      assert.deepEqual(model.tensor(tensor), { shape: [out, inFeatures], data: values });
      assert.equal(model.tensorType!(tensor), type);
      assert.equal(q.source, options.method === 'awq' ? 'AWQ' : 'GPTQ');
    }
    assert.ok(model.tensorNames().includes('model.layers.1.mlp.down_proj.weight'));
    assert.equal(model.quantized!('model.embed_tokens.weight'), null);
    assert.equal(model.tensorType!('model.norm.weight'), 'F32');
    const summary = summarizeWeights(model);
    assert.equal(summary.quantized, true);
    assert.equal(summary.tensorTypes[type], 14);
  });
}

test('symmetric GPTQ (every zero 2^(bits−1)) needs no offsets; asymmetric does', async (t) => {
  const dir = tempDir(t);
  writePackedHfDir(dir, config, { method: 'gptq', symmetric: true });
  const sym = await loadHfDir(dir);
  assert.equal(sym.quantized!('model.layers.0.self_attn.q_proj.weight')!.offsets, null);
  writePackedHfDir(dir, config, { method: 'gptq' });
  assert.notEqual((await loadHfDir(dir)).quantized!('model.layers.0.self_attn.q_proj.weight')!.offsets, null);
});

test('the packers themselves: one hand-checked word of each format', () => {
  const l = randomIntLinear(8, 8, 8, 4, 'hand', false);
  l.codes.set(Array.from({ length: 64 }, (_, k) => k % 16));
  l.zeros.set([1, 2, 3, 4, 5, 6, 7, 8]);
  // GPTQ word (0, j=0): rows 0..7 of column 0 = codes[i·8] = (8i) % 16 → 0, 8, 0, 8, … low nibble first.
  assert.equal(packGptq(l).qweight[0]! >>> 0, 0x80808080);
  // v1 stores z − 1 = 0..7 along out, low nibble first.
  assert.equal(packGptq(l).qzeros[0]! >>> 0, 0x76543210);
  // AWQ word (0, 0): nibble n = column [0,2,4,6,1,3,5,7][n] of row 0 = that column's code.
  assert.equal(packAwq(l).qweight[0]! >>> 0, 0x75316420);
  assert.equal(packAwq(l).qzeros[0]! >>> 0, 0x86427531);
});

test('the decoder alone: GPTQ 8-bit and AWQ 4-bit of a 256 × 48 matrix, group 128 kept as one block', () => {
  for (const method of ['gptq', 'awq'] as const) {
    const bits = method === 'gptq' ? 8 : 4;
    const l = randomIntLinear(256, 48, 128, bits, method);
    const packed = method === 'gptq' ? packGptq(l) : packAwq(l);
    const q = decodePackedLinear(
      { ...packed, scales: l.scales, gIdx: null, inFeatures: 256, outFeatures: 48 },
      { method, bits, groupSize: 128, descAct: false, zeroAdjust: method === 'gptq' ? 1 : 0, label: method },
      'x',
    );
    assert.deepEqual([q.rows, q.cols, q.blockSize, q.bits], [48, 256, 128, bits]);
    assert.deepEqual(expandBlockAffine(q), intLinearValues(l), method);
  }
});

test('a non-decreasing g_idx with groups off the group-size grid decodes with smaller blocks; one off every 16-block is refused', () => {
  const l = randomIntLinear(64, 8, 32, 4, 'shifted');
  // Group 0 is rows 0..15, group 1 rows 16..63 (contiguous, unequal): exact with blocks of 16.
  const gIdx = Int32Array.from({ length: 64 }, (_, i) => (i < 16 ? 0 : 1));
  const q = { method: 'gptq', bits: 4, groupSize: 32, descAct: true, zeroAdjust: 1, label: 'GPTQ-4bit' } as const;
  const decoded = decodePackedLinear({ ...packGptq(l), scales: l.scales, gIdx, inFeatures: 64, outFeatures: 8 }, q, 'x');
  assert.equal(decoded.blockSize, 16);
  const expected = Float32Array.from({ length: 8 * 64 }, (_, k) => {
    const [j, i] = [Math.floor(k / 64), k % 64];
    const g = gIdx[i]!;
    return Math.fround(l.scales[g * 8 + j]! * (l.codes[i * 8 + j]! - l.zeros[g * 8 + j]!));
  });
  assert.deepEqual(expandBlockAffine(decoded), expected);
  const offGrid = Int32Array.from({ length: 64 }, (_, i) => (i < 20 ? 0 : 1));
  assert.throws(
    () => decodePackedLinear({ ...packGptq(l), scales: l.scales, gIdx: offGrid, inFeatures: 64, outFeatures: 8 }, q, 'x'),
    /^Error: x\.g_idx: group 1 starts at input row 20, not on a 16-column block boundary$/,
  );
  assert.throws(
    () => decodePackedLinear({ ...packGptq(l), scales: l.scales, gIdx: gIdx.map((g) => g * 2), inFeatures: 64, outFeatures: 8 }, q, 'x'),
    /^Error: x\.g_idx: input row 16 names group 2, but there are 2$/,
  );
});

test('AutoGPTQ quantize_config.json (no quantization_config in config.json) is read', async (t) => {
  const dir = tempDir(t);
  const truth = writePackedHfDir(dir, config, { method: 'gptq' });
  const configJson = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(dir, 'quantize_config.json'), JSON.stringify(configJson['quantization_config']));
  delete configJson['quantization_config'];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(configJson));
  const model = await loadHfDir(dir);
  const name = 'model.layers.0.mlp.up_proj.weight';
  assert.deepEqual(expandBlockAffine(model.quantized!(name)!), truth.get(name));
});

test('desc_act with a trivial g_idx loads; a permuted (act-order) g_idx is refused naming the tensor', async (t) => {
  const dir = tempDir(t);
  writePackedHfDir(dir, config, { method: 'gptq', quantizationConfig: { desc_act: true } });
  await loadHfDir(dir);
  writePackedHfDir(dir, config, {
    method: 'gptq',
    quantizationConfig: { desc_act: true },
    editEntries: (entries) =>
      entries.map((e) => {
        if (e.name !== 'model.layers.1.self_attn.o_proj.g_idx') return e;
        // What act-order writes: groups in another order than the input rows (here reversed).
        const gIdx = Int32Array.from({ length: 64 }, (_, i) => (i < 32 ? 1 : 0));
        return { ...e, bytes: new Uint8Array(gIdx.buffer) };
      }),
  });
  const model = await loadHfDir(dir);
  assert.throws(
    () => model.quantized!('model.layers.1.self_attn.o_proj.weight'),
    (e: unknown) => {
      assert.ok(e instanceof ModelLoadError);
      assert.match(
        e.message,
        /^model\.safetensors: model\.layers\.1\.self_attn\.o_proj\.g_idx: input row 32 is in group 0, after row 31 in group 1: act-order \(desc_act\) groups are not contiguous/,
      );
      return true;
    },
  );
});

test('other methods, bad bits and group sizes, and broken packed tensors are refused naming the field or tensor', async (t) => {
  const dir = tempDir(t);
  const withConfig = (quantizationConfig: Record<string, unknown>, method: PackedDirOptions['method'] = 'gptq') =>
    writePackedHfDir(dir, config, { method, quantizationConfig });
  const supported = '\\(supported: gptq, awq; a float checkpoint can be quantized at load with --quantize int8\\|int4\\)';
  withConfig({ quant_method: 'fp8', activation_scheme: 'dynamic' });
  await assertLoadError(dir, new RegExp(`^config\\.json: field "quantization_config\\.quant_method" is "fp8", which is not supported ${supported}$`));
  withConfig({ quant_method: undefined, load_in_4bit: true });
  await assertLoadError(dir, /field "quantization_config\.quant_method" is "bitsandbytes", which is not supported/);
  withConfig({ quant_method: 'bitsandbytes' });
  await assertLoadError(dir, /is "bitsandbytes", which is not supported/);
  withConfig({ quant_method: 'compressed-tensors' });
  await assertLoadError(dir, /is "compressed-tensors", which is not supported/);
  withConfig({ quant_method: 'exl2' });
  await assertLoadError(dir, /is "exl2", which is not supported/);
  withConfig({ group_size: 48 });
  await assertLoadError(dir, /^config\.json: field "quantization_config\.group_size" is 48; MatMulNBits needs a power of two ≥ 16/);
  withConfig({ bits: 3 });
  await assertLoadError(dir, /^config\.json: field "quantization_config\.bits" is 3; GPTQ is supported with 4 or 8 bits$/);
  withConfig({ checkpoint_format: 'marlin' });
  await assertLoadError(dir, /field "quantization_config\.checkpoint_format" is "marlin", which is not supported \(supported: gptq, gptq_v2\)/);
  withConfig({ version: 'gemv' }, 'awq');
  await assertLoadError(dir, /field "quantization_config\.version" is "gemv"; only the GEMM packing is supported/);
  withConfig({ bits: 8 }, 'awq');
  await assertLoadError(dir, /field "quantization_config\.bits" is 8; AWQ is supported with 4 bits/);

  // config.json's group size disagrees with the tensors (2 groups of 32 stored).
  withConfig({ group_size: 64 });
  await assertLoadError(
    dir,
    /^model\.safetensors: tensor "model\.layers\.0\.self_attn\.q_proj\.qzeros" is I32 \[2,8\], expected I32 \[1,8\] for GPTQ-4bit with 64 inputs and 64 outputs$/,
  );
  // A group that does not divide the inputs (96 FFN inputs, groups of 64).
  const l = randomIntLinear(96, 8, 32, 4, 'g');
  assert.throws(
    () =>
      decodePackedLinear(
        { ...packGptq(l), scales: l.scales, gIdx: null, inFeatures: 96, outFeatures: 8 },
        { method: 'gptq', bits: 4, groupSize: 64, descAct: false, zeroAdjust: 1, label: 'GPTQ-4bit' },
        'down',
      ),
    /^Error: down: group size 64 does not divide the 96 input features$/,
  );

  writePackedHfDir(dir, config, { method: 'gptq', editEntries: (entries) => entries.filter((e) => e.name !== 'model.layers.0.self_attn.k_proj.qzeros') });
  await assertLoadError(
    dir,
    /^model\.safetensors: tensor "model\.layers\.0\.self_attn\.k_proj\.qzeros" is missing \(GPTQ-4bit needs qweight, qzeros and scales\)$/,
  );
  writePackedHfDir(dir, config, {
    method: 'gptq',
    editEntries: (entries) => entries.map((e) => (e.name.endsWith('v_proj.scales') ? { ...e, shape: [1, 64], bytes: e.bytes.subarray(0, 128) } : e)),
  });
  await assertLoadError(
    dir,
    /^model\.safetensors: tensor "model\.layers\.0\.self_attn\.v_proj\.scales" is F16 \[1,64\], expected a float \[2,32\] for GPTQ-4bit with 64 inputs and 32 outputs$/,
  );

  // Packed tensors with no quantization_config at all.
  writePackedHfDir(dir, config, { method: 'gptq' });
  const configJson = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  delete configJson['quantization_config'];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(configJson));
  await assertLoadError(dir, /tensor "model\.layers\.0\.self_attn\.q_proj\.qweight" is packed \(GPTQ\/AWQ\) but config\.json has no quantization_config$/);
});
