import { test } from 'node:test';
import assert from 'node:assert/strict';
import { permuteQk, unpermuteQk } from './qk-permute.ts';

test('permute matches llama.cpp: per head, rotate_half rows (i, i+d/2) become adjacent pairs (2i, 2i+1)', () => {
  // 2 heads of headDim 4, one column: HF rows [h0: a0 a1 b0 b1, h1: c0 c1 d0 d1] with pairs (a_i, b_i).
  const hf = Float32Array.from([10, 11, 20, 21, 30, 31, 40, 41]);
  assert.deepEqual([...permuteQk(hf, 8, 2)], [10, 20, 11, 21, 30, 40, 31, 41]);
  assert.deepEqual([...unpermuteQk(Float32Array.from([10, 20, 11, 21, 30, 40, 31, 41]), 8, 2)], [...hf]);
});

test('unpermute(permute(x)) is x for weights with columns and for biases', () => {
  const rows = 24;
  const cols = 5;
  const weight = Float32Array.from({ length: rows * cols }, (_, i) => i * 0.25 - 7);
  for (const heads of [1, 2, 3, 6]) {
    const permuted = permuteQk(weight, rows, heads);
    assert.notDeepEqual([...permuted], [...weight]);
    assert.deepEqual([...unpermuteQk(permuted, rows, heads)], [...weight]);
    for (let r = 0; r < rows; r++) {
      // Rows move whole: each permuted row is some original row.
      const row = [...permuted.subarray(r * cols, (r + 1) * cols)];
      assert.equal(((row[0]! + 7) / 0.25) % cols, 0);
    }
  }
  const bias = Float32Array.from({ length: 8 }, (_, i) => i);
  assert.deepEqual([...unpermuteQk(permuteQk(bias, 8, 2), 8, 2)], [...bias]);
  assert.throws(() => permuteQk(bias, 8, 3), RangeError);
});
