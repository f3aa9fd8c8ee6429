import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openSafetensors, safetensorsFromFiles } from './safetensors.ts';
import { bf16Bytes, f16Bytes, f32Bytes, writeSafetensors } from './safetensors-writer.test-helper.ts';
import { tempDir } from './tiny-model.test-helper.ts';
import { ModelLoadError } from './types.ts';

const F32_VALUES = [1.5, -2.25, 3.1415927410125732, 1e-8, 65536.5, -0.1];
const F16_VALUES = [0.5, -1.25, 65504, 2 ** -24, -0.000060975551605224609];
const BF16_VALUES = [1, -3.5, 2 ** 60, 0.0078125];

test('reads F32, F16 and BF16 tensors lazily and exactly as float32', (t) => {
  const dir = tempDir(t);
  writeSafetensors(
    path.join(dir, 'model.safetensors'),
    [
      { name: 'a.f32', dtype: 'F32', shape: [2, 3], bytes: f32Bytes(F32_VALUES) },
      { name: 'b.f16', dtype: 'F16', shape: [5], bytes: f16Bytes(F16_VALUES) },
      { name: 'c.bf16', dtype: 'BF16', shape: [2, 1, 2], bytes: bf16Bytes(BF16_VALUES) },
    ],
    { format: 'pt' },
  );
  const reader = openSafetensors(dir);
  assert.deepEqual(reader.names().sort(), ['a.f32', 'b.f16', 'c.bf16']);
  assert.deepEqual(reader.info('a.f32').shape, [2, 3]);
  const a = reader.read('a.f32');
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.data], F32_VALUES.map(Math.fround));
  assert.deepEqual([...reader.read('b.f16').data], F16_VALUES.map(Math.fround));
  assert.deepEqual([...reader.read('c.bf16').data], BF16_VALUES);
  assert.deepEqual(reader.read('c.bf16').shape, [2, 1, 2]);
  assert.throws(
    () => reader.read('nope'),
    (e: unknown) => e instanceof ModelLoadError && /model\.safetensors: tensor "nope" is missing/.test(e.message),
  );
});

test('reads I32 tensors (packed GPTQ/AWQ codes) bit-exactly with readInt32, and refuses them as floats', (t) => {
  const dir = tempDir(t);
  const values = [0, -1, 0x7fffffff, -0x80000000, 0x12345678];
  writeSafetensors(path.join(dir, 'model.safetensors'), [
    { name: 'w.qweight', dtype: 'I32', shape: [5], bytes: new Uint8Array(Int32Array.from(values).buffer) },
    { name: 'w.scales', dtype: 'F16', shape: [1], bytes: f16Bytes([0.5]) },
  ]);
  const reader = openSafetensors(dir);
  assert.deepEqual([...reader.readInt32('w.qweight')], values);
  assert.throws(() => reader.read('w.qweight'), /model\.safetensors: tensor "w\.qweight" is I32 \(packed integers\), not a float tensor/);
  assert.throws(() => reader.readInt32('w.scales'), /model\.safetensors: tensor "w\.scales" is F16, expected I32/);
});

test('follows model.safetensors.index.json across shards', (t) => {
  const dir = tempDir(t);
  writeSafetensors(path.join(dir, 'model-00001-of-00002.safetensors'), [{ name: 'x', dtype: 'F32', shape: [2], bytes: f32Bytes([1, 2]) }]);
  writeSafetensors(path.join(dir, 'model-00002-of-00002.safetensors'), [
    { name: 'y', dtype: 'F16', shape: [1], bytes: f16Bytes([3]) },
    { name: 'z', dtype: 'BF16', shape: [1], bytes: bf16Bytes([-4]) },
  ]);
  fs.writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({
      metadata: { total_size: 12 },
      weight_map: { x: 'model-00001-of-00002.safetensors', y: 'model-00002-of-00002.safetensors', z: 'model-00002-of-00002.safetensors' },
    }),
  );
  const reader = openSafetensors(dir);
  assert.equal(reader.files.length, 2);
  assert.deepEqual(reader.names().sort(), ['x', 'y', 'z']);
  assert.deepEqual([...reader.read('x').data], [1, 2]);
  assert.deepEqual([...reader.read('y').data], [3]);
  assert.deepEqual([...reader.read('z').data], [-4]);
  assert.equal(path.basename(reader.info('z').file), 'model-00002-of-00002.safetensors');
});

function assertLoadError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelLoadError, `expected ModelLoadError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('unsupported dtypes, bad offsets, missing shards and missing files name the file and tensor', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'model.safetensors');
  writeSafetensors(file, [{ name: 'x', dtype: 'I8', shape: [4], bytes: new Uint8Array(4) }]);
  assertLoadError(() => openSafetensors(dir), /^model\.safetensors: tensor "x" has unsupported dtype I8 \(supported: F32, F16, BF16, I32\)$/);

  writeSafetensors(file, [{ name: 'x', dtype: 'F32', shape: [3], bytes: new Uint8Array(8) }]);
  assertLoadError(() => safetensorsFromFiles([file]), /model\.safetensors: tensor "x" data_offsets \[0, 8\] do not match shape \[3\] F32/);

  fs.writeFileSync(file, Buffer.from([1, 2, 3]));
  assertLoadError(() => openSafetensors(dir), /model\.safetensors: file is too short/);

  fs.rmSync(file);
  assertLoadError(() => openSafetensors(dir), /^model\.safetensors: not found in /);

  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'gone.safetensors' } }));
  assertLoadError(() => openSafetensors(dir), /model\.safetensors\.index\.json: weight_map names "gone\.safetensors", which does not exist/);
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), '{ not json');
  assertLoadError(() => openSafetensors(dir), /model\.safetensors\.index\.json: is not valid JSON/);
});
