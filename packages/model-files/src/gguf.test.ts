import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { f16BitsToF32 } from './float16.ts';
import { GgmlType, openGguf, readGgufTensor } from './gguf.ts';
import { gv, quantizeQ8_0, writeGguf } from './gguf-writer.test-helper.ts';
import { bf16Bytes, f16Bytes, f32Bytes } from './safetensors-writer.test-helper.ts';
import { tempDir } from './tiny-model.test-helper.ts';
import { ModelLoadError } from './types.ts';

const metadata = () =>
  [
    ['t.u8', gv.u8(250)],
    ['t.i8', gv.i8(-5)],
    ['t.u16', gv.u16(65000)],
    ['t.i16', gv.i16(-300)],
    ['t.u32', gv.u32(4294967295)],
    ['t.i32', gv.i32(-70000)],
    ['t.f32', gv.f32(0.5)],
    ['t.bool', gv.bool(true)],
    ['t.str', gv.str('héllo ▁ 😀')],
    ['t.u64', gv.u64(2 ** 40)],
    ['t.i64', gv.i64(-(2 ** 40))],
    ['t.f64', gv.f64(0.1)],
    ['t.strings', gv.arr(8, ['a', '', 'ü'])],
    ['t.floats', gv.arr(6, [1.5, -2])],
    ['t.empty', gv.arr(4, [])],
  ] as Parameters<typeof writeGguf>[1]['metadata'];

// Q8_0 input chosen so every value is scale × an int8 with scale 0.5 (exact in f16).
const Q8_VALUES = Array.from({ length: 64 }, (_, i) => (i === 0 ? 63.5 : i === 32 ? -63.5 : (((i * 37) % 255) - 127) * 0.5));

for (const version of [2, 3]) {
  test(`GGUF v${version}: metadata of every type and F32/F16/BF16/Q8_0 tensors read exactly`, (t) => {
    const file = path.join(tempDir(t), 'tiny.gguf');
    writeGguf(file, {
      version,
      metadata: metadata(),
      alignment: version === 3 ? 64 : 32,
      tensors: [
        { name: 'w.f32', ne: [3, 2], type: GgmlType.F32, bytes: f32Bytes([1, 2, 3, 4, 5, 6.25]) },
        { name: 'w.f16', ne: [4], type: GgmlType.F16, bytes: f16Bytes([0.5, -1, 65504, 2 ** -24]) },
        { name: 'w.bf16', ne: [2], type: GgmlType.BF16, bytes: bf16Bytes([-3.5, 2 ** 70]) },
        { name: 'w.q8', ne: [32, 2], type: GgmlType.Q8_0, bytes: quantizeQ8_0(Q8_VALUES) },
      ],
    });
    const gguf = openGguf(file);
    assert.equal(gguf.version, version);
    assert.equal(gguf.alignment, version === 3 ? 64 : 32);
    assert.equal(gguf.dataOffset % gguf.alignment, 0);
    const m = Object.fromEntries(gguf.metadata);
    assert.deepEqual(
      [m['t.u8'], m['t.i8'], m['t.u16'], m['t.i16'], m['t.u32'], m['t.i32'], m['t.f32'], m['t.bool'], m['t.str'], m['t.u64'], m['t.i64'], m['t.f64']],
      [250, -5, 65000, -300, 4294967295, -70000, 0.5, true, 'héllo ▁ 😀', 2 ** 40, -(2 ** 40), 0.1],
    );
    assert.deepEqual(m['t.strings'], ['a', '', 'ü']);
    assert.deepEqual(m['t.floats'], [1.5, -2]);
    assert.deepEqual(m['t.empty'], []);

    const f32 = readGgufTensor(gguf, 'w.f32');
    assert.deepEqual(f32.shape, [2, 3], 'ne [3, 2] is 2 rows of 3');
    assert.deepEqual([...f32.data], [1, 2, 3, 4, 5, 6.25]);
    assert.deepEqual([...readGgufTensor(gguf, 'w.f16').data], [0.5, -1, 65504, 2 ** -24]);
    assert.deepEqual([...readGgufTensor(gguf, 'w.bf16').data], [-3.5, 2 ** 70]);
    const q8 = readGgufTensor(gguf, 'w.q8');
    assert.deepEqual(q8.shape, [2, 32]);
    assert.deepEqual([...q8.data], Q8_VALUES);
    assert.equal(gguf.tensors.get('w.q8')!.typeName, 'Q8_0');
  });
}

test('Q8_0 dequantises as scale × int8 per block of 32 (random data within half a step)', (t) => {
  const values = Array.from({ length: 96 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
  const bytes = quantizeQ8_0(values);
  const file = path.join(tempDir(t), 'q.gguf');
  writeGguf(file, { metadata: [], tensors: [{ name: 'q', ne: [96], type: GgmlType.Q8_0, bytes }] });
  const data = readGgufTensor(openGguf(file), 'q').data;
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 96; i++) {
    const block = Math.floor(i / 32);
    const scale = f16BitsToF32(view.getUint16(block * 34, true));
    assert.equal(data[i], Math.fround(scale * view.getInt8(block * 34 + 2 + (i % 32))));
    assert.ok(Math.abs(data[i]! - values[i]!) <= scale * 0.5 + 1e-3, `value ${i}`);
  }
});

test('bad magic, version 1, truncation and unsupported tensor types are ModelLoadErrors naming the file', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'bad.gguf');
  const expectError = (pattern: RegExp, fn: () => unknown = () => openGguf(file)) =>
    assert.throws(fn, (e: unknown) => e instanceof ModelLoadError && pattern.test(e.message));

  fs.writeFileSync(file, Buffer.alloc(64));
  expectError(/^bad\.gguf: is not a GGUF file \(bad magic\)$/);
  writeGguf(file, { version: 1, metadata: [], tensors: [] });
  expectError(/^bad\.gguf: GGUF version 1 is not supported \(supported: 2, 3\)$/);
  writeGguf(file, { metadata: [['general.name', gv.str('x'.repeat(100))]], tensors: [] });
  fs.truncateSync(file, 60);
  expectError(/^bad\.gguf: is truncated or corrupt/);
  writeGguf(file, { metadata: [], tensors: [{ name: 'blk.0.attn_q.weight', ne: [256], type: 16, bytes: new Uint8Array(66) }] });
  const gguf = openGguf(file);
  expectError(
    /^bad\.gguf: tensor "blk\.0\.attn_q\.weight" has unsupported type IQ2_XXS \(supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS\)$/,
    () => readGgufTensor(gguf, 'blk.0.attn_q.weight'),
  );
  expectError(/^bad\.gguf: tensor "other" is missing$/, () => readGgufTensor(gguf, 'other'));
  writeGguf(file, { metadata: [], tensors: [{ name: 'w', ne: [64], type: GgmlType.F32, bytes: new Uint8Array(256) }] });
  fs.truncateSync(file, fs.statSync(file).size - 4);
  expectError(/^bad\.gguf: tensor "w" data runs past the end of the file$/);
});
