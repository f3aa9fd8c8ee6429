// @module GGML block decoders: the reference dequantizer against llama.cpp's own quantizer output, and the block-affine repacking against the reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandBlockAffine } from './block-affine.ts';
import { f32ToF16Bits } from './float16.ts';
import { ggmlToBlockAffine } from './ggml-block-affine.ts';
import { dequantizeGgml } from './ggml-dequantize.ts';
import { GGML_TYPE_NAMES, GgmlType, ggmlBlockLayout, isBlockQuantizedType } from './ggml-types.ts';
import { isQuantizedGgufTensor, openGguf, readGgufBlockAffine, readGgufTensor } from './gguf.ts';
import { writeGguf } from './gguf-writer.test-helper.ts';
import { tempDir } from './tiny-model.test-helper.ts';
import { ModelLoadError } from './types.ts';

const quantizedDir = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'models', 'quantized');

/** Offsets of each block type's f16 fields (scales / mins), which random bytes must not turn into NaN. */
const HALF_FIELDS: Record<number, number[]> = {
  [GgmlType.Q4_0]: [0],
  [GgmlType.Q4_1]: [0, 2],
  [GgmlType.Q5_0]: [0],
  [GgmlType.Q5_1]: [0, 2],
  [GgmlType.Q8_0]: [0],
  [GgmlType.Q2_K]: [80, 82],
  [GgmlType.Q3_K]: [108],
  [GgmlType.Q4_K]: [0, 2],
  [GgmlType.Q5_K]: [0, 2],
  [GgmlType.Q6_K]: [208],
  [GgmlType.IQ4_NL]: [0],
  [GgmlType.IQ4_XS]: [0],
};
/** Where the repacked offset is one float32 rounding away from the file's (ggml-block-affine.ts' table). */
const ROUNDED_OFFSET = new Set<number>([GgmlType.Q4_1, GgmlType.Q4_K]);

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Random but valid blocks: every code pattern is legal; only the f16 fields need sane values. */
function randomBlocks(type: number, rows: number, cols: number, seed: number): Uint8Array {
  const [elements, bytes] = ggmlBlockLayout(type)!;
  const random = seeded(seed);
  const out = new Uint8Array(((rows * cols) / elements) * bytes);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * 256);
  for (let at = 0; at < out.length; at += bytes) {
    for (const field of HALF_FIELDS[type]!) {
      const half = f32ToF16Bits((random() - 0.3) * 0.05);
      out[at + field] = half & 0xff;
      out[at + field + 1] = half >> 8;
    }
  }
  return out;
}

/** The repacked values equal the reference dequantizer's: bit for bit, or within float32 rounding of the offset. */
function assertSameValues(type: number, actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length);
  if (!ROUNDED_OFFSET.has(type)) {
    for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) assert.fail(`${label}: element ${i}: ${actual[i]} ≠ ${expected[i]} (bit for bit)`);
    return;
  }
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i]! - expected[i]!) > scale * 2 ** -21) assert.fail(`${label}: element ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

const blockTypes = Object.keys(HALF_FIELDS).map(Number);

test("every block type: the block-affine repacking gives the reference dequantizer's values (random blocks, odd row counts)", () => {
  for (const type of blockTypes) {
    const [elements] = ggmlBlockLayout(type)!;
    for (const [rows, cols] of [
      [3, elements],
      [5, 2 * elements],
      [1, 4 * elements],
    ] as const) {
      const bytes = randomBlocks(type, rows, cols, type * 31 + rows);
      const q = ggmlToBlockAffine(type, bytes, rows, cols);
      assert.equal(q.rows, rows);
      assert.equal(q.cols, cols);
      assert.equal(q.source, GGML_TYPE_NAMES[type]);
      assertSameValues(type, expandBlockAffine(q), dequantizeGgml(type, bytes, rows * cols), `${GGML_TYPE_NAMES[type]} [${rows}, ${cols}]`);
    }
  }
});

test('4-bit forms where the codes fit 4 bits, 8-bit where they do not', () => {
  const layouts = Object.fromEntries(
    blockTypes.map((type) => {
      const q = ggmlToBlockAffine(type, randomBlocks(type, 1, 256, 1), 1, 256);
      return [GGML_TYPE_NAMES[type]!, `${q.bits}/${q.blockSize}${q.offsets ? '+offsets' : ''}`];
    }),
  );
  assert.deepEqual(layouts, {
    Q4_0: '4/32',
    Q4_1: '4/32+offsets',
    Q5_0: '8/32',
    Q5_1: '8/32+offsets',
    Q8_0: '8/32',
    Q2_K: '4/16+offsets',
    Q3_K: '4/16',
    Q4_K: '4/32+offsets',
    Q5_K: '8/32+offsets',
    Q6_K: '8/16',
    IQ4_NL: '8/32',
    IQ4_XS: '8/32',
  });
});

/** Largest relative RMS error (‖dequantized − original‖ / ‖original‖) allowed per type: llama.cpp's quantization error, shrinking with bits. */
const TOLERANCE: Record<string, number> = {
  Q8_0: 0.008,
  Q6_K: 0.025,
  Q5_0: 0.055,
  Q5_1: 0.055,
  Q5_K: 0.05,
  Q4_0: 0.11,
  Q4_1: 0.11,
  Q4_K: 0.1,
  IQ4_NL: 0.1,
  Q3_K: 0.2,
  Q2_K: 0.4,
};

test("files quantized by llama.cpp: the reference decodes each tensor to the F32 original within the type's error, and the repacking matches it", (t) => {
  if (!fs.existsSync(quantizedDir)) return t.skip('../shared/models/quantized is not present');
  const original = openGguf(path.join(quantizedDir, 'small-F32.gguf'));
  const seen = new Set<string>();
  for (const file of fs.readdirSync(quantizedDir).filter((f) => f.endsWith('.gguf') && f !== 'small-F32.gguf')) {
    const gguf = openGguf(path.join(quantizedDir, file));
    for (const [name, info] of gguf.tensors) {
      if (!isBlockQuantizedType(info.type)) continue;
      seen.add(info.typeName);
      const decoded = readGgufTensor(gguf, name).data;
      const want = readGgufTensor(original, name).data;
      let error = 0,
        norm = 0;
      for (let i = 0; i < want.length; i++) {
        error += (decoded[i]! - want[i]!) ** 2;
        norm += want[i]! ** 2;
      }
      const relative = Math.sqrt(error / norm);
      assert.ok(
        relative < TOLERANCE[info.typeName]!,
        `${file} ${name} (${info.typeName}): relative error ${relative.toFixed(4)} ≥ ${TOLERANCE[info.typeName]}`,
      );
      assert.ok(isQuantizedGgufTensor(info), `${name} is a quantized matrix`);
      assertSameValues(info.type, expandBlockAffine(readGgufBlockAffine(gguf, name)), decoded, `${file} ${name}`);
    }
  }
  assert.deepEqual([...seen].sort(), Object.keys(TOLERANCE).sort());
});

test('bad quantized tensors: a truncated tensor, a row that is not whole blocks, an unknown type id — each names file and tensor', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'q.gguf');
  const expectError = (pattern: RegExp, fn: () => unknown) => assert.throws(fn, (e: unknown) => e instanceof ModelLoadError && pattern.test(e.message));
  writeGguf(file, {
    metadata: [],
    tensors: [{ name: 'blk.0.ffn_up.weight', ne: [256, 2], type: GgmlType.Q4_K, bytes: randomBlocks(GgmlType.Q4_K, 2, 256, 3) }],
  });
  fs.truncateSync(file, fs.statSync(file).size - 10);
  expectError(/^q\.gguf: tensor "blk\.0\.ffn_up\.weight" data runs past the end of the file$/, () => openGguf(file));
  writeGguf(file, { metadata: [], tensors: [{ name: 'blk.0.ffn_up.weight', ne: [288, 1], type: GgmlType.Q6_K, bytes: new Uint8Array(210) }] });
  expectError(/^q\.gguf: tensor "blk\.0\.ffn_up\.weight" row length 288 is not a multiple of 256 \(Q6_K\)$/, () => openGguf(file));
  writeGguf(file, { metadata: [], tensors: [{ name: 'blk.0.ffn_up.weight', ne: [256, 1], type: 77, bytes: new Uint8Array(64) }] });
  expectError(/^q\.gguf: tensor "blk\.0\.ffn_up\.weight" has unsupported type id 77 \(supported: F32, .*IQ4_XS\)$/, () =>
    readGgufTensor(openGguf(file), 'blk.0.ffn_up.weight'),
  );
});
