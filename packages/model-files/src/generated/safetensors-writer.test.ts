// @module Tests of the F32 safetensors writer: parsed back by a minimal reader here and by the package's reader.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readSafetensorsHeader, readSafetensorsTensor } from '../safetensors.ts';
import { safetensorsHeader, writeSafetensorsF32 } from './safetensors-writer.ts';

/** The format, read straight from the spec: u64 LE header size, JSON header, data section. */
function parseSafetensors(bytes: Buffer) {
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const headerText = bytes.subarray(8, 8 + headerLength).toString('utf8');
  const header = JSON.parse(headerText) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const dataStart = 8 + headerLength;
  const tensor = (name: string) => {
    const [begin, end] = header[name]!.data_offsets;
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset + dataStart + begin, bytes.byteOffset + dataStart + end));
  };
  return { headerLength, headerText, header, dataStart, tensor };
}

const TENSORS = [
  { name: 'z.last', shape: [3], values: [1.5, -2, 3.25] },
  { name: 'a.matrix', shape: [2, 3], values: [0.1, 0.2, 0.3, -0.4, 1e-8, 12345.678] },
  { name: 'm.scalarish', shape: [1], values: [Math.PI] },
];

test('written file parses back: aligned header, sorted names, contiguous offsets, byte-identical data', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-st-'));
  try {
    const file = path.join(dir, 'x.safetensors');
    const sources = TENSORS.map((t) => ({ name: t.name, shape: t.shape, data: () => Float32Array.from(t.values) }));
    const size = await writeSafetensorsF32(file, sources, { format: 'pt' });
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.length, size);

    const parsed = parseSafetensors(bytes);
    assert.equal(parsed.dataStart % 8, 0);
    assert.match(parsed.headerText, /^\{.*\} *$/s, 'JSON, then only space padding');
    assert.deepEqual(parsed.header['__metadata__'], { format: 'pt' });
    const names = Object.keys(parsed.header).filter((n) => n !== '__metadata__');
    assert.deepEqual(names, ['a.matrix', 'm.scalarish', 'z.last']);
    let expectedOffset = 0;
    for (const name of names) {
      const entry = parsed.header[name]!;
      const source = TENSORS.find((t) => t.name === name)!;
      assert.equal(entry.dtype, 'F32');
      assert.deepEqual(entry.shape, source.shape);
      assert.deepEqual(entry.data_offsets, [expectedOffset, expectedOffset + 4 * source.values.length]);
      expectedOffset += 4 * source.values.length;
      assert.deepEqual(parsed.tensor(name), Float32Array.from(source.values));
    }
    assert.equal(bytes.length, parsed.dataStart + expectedOffset);

    // The package's own reader agrees.
    for (const info of readSafetensorsHeader(file)) {
      const source = TENSORS.find((t) => t.name === info.name)!;
      assert.deepEqual(readSafetensorsTensor(info).data, Float32Array.from(source.values));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('header padding makes every header length land on an 8-byte boundary', () => {
  for (let n = 1; n < 12; n++) {
    const { bytes } = safetensorsHeader([{ name: 'x'.repeat(n), shape: [n] }]);
    assert.equal(bytes.length % 8, 0);
    assert.equal(Number(bytes.readBigUInt64LE(0)), bytes.length - 8);
  }
});

test('a tensor whose data does not match its shape is rejected', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-st-'));
  try {
    const bad = [{ name: 'w', shape: [2, 2], data: () => new Float32Array(3) }];
    await assert.rejects(writeSafetensorsF32(path.join(dir, 'bad.safetensors'), bad), /"w" has 3 values, shape \[2,2\] needs 4/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
