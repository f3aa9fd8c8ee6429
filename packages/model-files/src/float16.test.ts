import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16ToF32Array, f16BitsToF32, f16ToF32Array, f32ToF16Array, f32ToF16Bits } from './float16.ts';

test('f16 bit patterns decode to their exact values', () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, value] of cases) assert.equal(f16BitsToF32(bits), value, `0x${bits.toString(16)}`);
  assert.ok(Number.isNaN(f16BitsToF32(0x7e00)));
  assert.ok(Object.is(f16BitsToF32(0x8000), -0));
  assert.deepEqual(
    [...f16ToF32Array(Uint16Array.from(cases.map((c) => c[0])))],
    cases.map((c) => c[1]),
  );
});

test('f32 → f16 rounds to nearest, ties to even, and saturates to Inf', () => {
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie, even mantissa stays
  assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie, odd mantissa rounds up
  assert.equal(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01);
  assert.equal(f32ToF16Bits(65504), 0x7bff);
  assert.equal(f32ToF16Bits(65520), 0x7c00); // rounds past the largest finite value
  assert.equal(f32ToF16Bits(1e9), 0x7c00);
  assert.equal(f32ToF16Bits(-1e9), 0xfc00);
  assert.equal(f32ToF16Bits(2 ** -24), 0x0001);
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000); // tie to even (zero)
  assert.equal(f32ToF16Bits(3 * 2 ** -25), 0x0002);
  assert.equal(f32ToF16Bits(2 ** -14 - 2 ** -25), 0x0400); // largest subnormal rounds up into the normals
  assert.equal(f32ToF16Bits(-0), 0x8000);
  assert.equal(f32ToF16Bits(NaN) & 0x7e00, 0x7e00);
});

test('every finite f16 value survives f16 → f32 → f16', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const back = f32ToF16Array(f16ToF32Array(all));
  for (let h = 0; h < 65536; h++) {
    const exponent = (h >> 10) & 0x1f;
    if (exponent === 31 && h & 0x3ff) continue; // NaN payloads are not preserved
    assert.equal(back[h], h, `0x${h.toString(16)}`);
  }
});

test('bf16 is the top half of an f32', () => {
  const values = Float32Array.from([1, -2.5, 3.140625, 0, -0, 2 ** 100, Infinity]);
  const bits = Uint16Array.from(new Uint32Array(values.buffer), (b) => b >>> 16);
  assert.deepEqual([...bf16ToF32Array(bits)], [1, -2.5, 3.140625, 0, -0, 2 ** 100, Infinity]);
  assert.equal(bf16ToF32Array(Uint16Array.of(0x3f80))[0], 1);
  assert.equal(bf16ToF32Array(Uint16Array.of(0xc0a0))[0], -5);
});
