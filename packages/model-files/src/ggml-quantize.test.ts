// @module GGML encoders and `tessera quantize`: llama.cpp's bytes for Q4_0/Q8_0, bounded error for the K-quants, a float GGUF rewritten quantized.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dequantizeGgml } from './ggml-dequantize.ts';
import { quantizeGgml } from './ggml-quantize.ts';
import { GGML_TYPE_NAMES, GgmlType, ggmlBlockLayout } from './ggml-types.ts';
import { quantizeGgufFile } from './gguf-quantize-file.ts';
import { ggufTensorByteLength, openGguf, readGgufTensor } from './gguf.ts';
import { readFileRange } from './file-range.ts';
import { loadModel } from './load-model.ts';
import { tempDir } from './tiny-model.test-helper.ts';

const shared = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'models');
const quantizedDir = path.join(shared, 'quantized');

function relativeError(a: Float32Array, b: Float32Array): number {
  let e = 0,
    n = 0;
  for (let i = 0; i < b.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(e / n);
}

function gaussian(n: number, seed: number): Float32Array {
  let s = seed;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) * 0.1);
}

test("each encoder round-trips Gaussian weights within its type's error (and zeros stay zeros)", () => {
  const bounds: Record<number, number> = { [GgmlType.Q8_0]: 0.008, [GgmlType.Q6_K]: 0.03, [GgmlType.Q4_0]: 0.12, [GgmlType.Q4_K]: 0.12 };
  for (const [type, bound] of Object.entries(bounds).map(([t, b]) => [Number(t), b] as const)) {
    const x = gaussian(4 * 512, type);
    const error = relativeError(dequantizeGgml(type, quantizeGgml(type, x, 512), x.length), x);
    assert.ok(error < bound, `${GGML_TYPE_NAMES[type]}: ${error}`);
    const zeros = dequantizeGgml(type, quantizeGgml(type, new Float32Array(256), 256), 256);
    assert.ok(
      zeros.every((v) => v === 0),
      `${GGML_TYPE_NAMES[type]} zeros`,
    );
  }
  assert.throws(() => quantizeGgml(GgmlType.Q4_K, new Float32Array(288), 288), /row length 288 is not a multiple of 256/);
});

test('Q4_0 and Q8_0 encode exactly as llama-quantize does (its own files)', (t) => {
  if (!fs.existsSync(quantizedDir)) return t.skip('../shared/models/quantized is not present');
  const original = openGguf(path.join(quantizedDir, 'small-F32.gguf'));
  for (const type of [GgmlType.Q4_0, GgmlType.Q8_0]) {
    const theirs = openGguf(path.join(quantizedDir, `small-${GGML_TYPE_NAMES[type]}.gguf`));
    let compared = 0;
    for (const [name, info] of theirs.tensors) {
      if (info.type !== type) continue;
      const ours = quantizeGgml(type, readGgufTensor(original, name).data, info.ne[0]!);
      const expected = readFileRange(theirs.path, info.offset, ggufTensorByteLength(info, 'x'));
      assert.ok(Buffer.from(ours).equals(Buffer.from(expected)), `${GGML_TYPE_NAMES[type]} ${name}: bytes differ`);
      compared++;
    }
    assert.ok(compared >= 15);
  }
});

test("tessera quantize: a float GGUF → Q4_K_M keeps metadata, mixes Q4_K/Q6_K, and loads with errors near llama-quantize's", async (t) => {
  if (!fs.existsSync(quantizedDir)) return t.skip('../shared/models/quantized is not present');
  const out = path.join(tempDir(t), 'small-ours-Q4_K_M.gguf');
  const result = quantizeGgufFile(path.join(quantizedDir, 'small-F32.gguf'), out, 'Q4_K_M');
  assert.equal(result.types['output.weight'], 'Q6_K');
  assert.equal(result.types['blk.0.ffn_down.weight'], 'Q6_K');
  assert.equal(result.types['blk.1.attn_q.weight'], 'Q4_K');
  assert.equal(result.types['blk.0.attn_norm.weight'], 'F32');
  assert.equal(result.bytes, fs.statSync(out).size);
  const ours = openGguf(out);
  const original = openGguf(path.join(quantizedDir, 'small-F32.gguf'));
  const theirs = openGguf(path.join(quantizedDir, 'small-Q4_K_M.gguf'));
  assert.deepEqual(ours.metadata, original.metadata);
  for (const [name, info] of ours.tensors) {
    if (info.ne.length !== 2) continue;
    const want = readGgufTensor(original, name).data;
    const ourError = relativeError(readGgufTensor(ours, name).data, want);
    // Plain round-to-nearest scales vs llama.cpp's searched ones: within 1.35× its error for the same type.
    const theirInfo = theirs.tensors.get(name)!;
    if (theirInfo.type === info.type) {
      const theirError = relativeError(readGgufTensor(theirs, name).data, want);
      assert.ok(ourError < 1.35 * theirError, `${name} ${info.typeName}: ours ${ourError.toFixed(4)} vs llama.cpp ${theirError.toFixed(4)}`);
    }
  }
  const model = await loadModel(out);
  assert.equal(model.tensorType?.('model.layers.0.mlp.up_proj.weight'), 'Q4_K');
  assert.ok(model.quantized?.('lm_head.weight'));
});

test("rows that are not whole K-blocks fall back to 32-blocks, and rows that are not whole 32-blocks stay float (stories260K's FFN of 172)", (t) => {
  const stories = path.join(shared, 'stories260K', 'stories260K.gguf');
  if (!fs.existsSync(stories)) return t.skip('../shared/models/stories260K is not present');
  const out = path.join(tempDir(t), 's.gguf');
  const { types } = quantizeGgufFile(stories, out, 'Q4_K_M');
  assert.equal(types['blk.0.attn_q.weight'], 'Q4_0'); // 64 columns: not 256, but 32
  assert.equal(types['blk.0.ffn_down.weight'], 'F32'); // 172 columns
  assert.equal(types['blk.0.ffn_up.weight'], 'Q4_0');
  assert.ok(ggmlBlockLayout(GgmlType.Q4_0));
});
