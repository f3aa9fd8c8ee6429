import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBlockAffine, expandBlockAffine } from './block-affine.ts';
import { quantizeRtn } from './rtn-quantize.ts';

/** Deterministic bell-shaped values (sum of uniforms), with a few outliers like real weights have. */
function weights(n: number, seed = 1): Float32Array {
  let s = seed;
  const u = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  return Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 6 : 1) * (u() + u() + u() - 1.5) * 0.05);
}

const rows = 24;
const cols = 128;
const blocks = (w: Float32Array, size: number) => Array.from({ length: w.length / size }, (_, b) => w.subarray(b * size, (b + 1) * size));

test('int8: every value within half a step (max|w|/254) of its block', () => {
  const w = weights(rows * cols);
  const q = quantizeRtn(w, rows, cols, 8);
  checkBlockAffine(q, 'int8');
  assert.deepEqual([q.bits, q.blockSize, q.offsets, q.source], [8, 32, null, 'RTN']);
  const back = expandBlockAffine(q);
  blocks(w, 32).forEach((block, b) => {
    const amax = Math.max(...block.map(Math.abs));
    block.forEach((v, i) => assert.ok(Math.abs(back[b * 32 + i]! - v) <= (amax / 254) * (1 + 1e-6), `block ${b}[${i}]`));
    assert.ok(q.codes.subarray(b * 32, b * 32 + 32).every((c) => c >= 1 && c <= 255));
  });
});

test('int4 (Q4_0 rule): the extreme is exact, values within |m|/16, the clipped side within |m|/8', () => {
  const w = weights(rows * cols, 7);
  const q = quantizeRtn(w, rows, cols, 4);
  checkBlockAffine(q, 'int4');
  const back = expandBlockAffine(q);
  blocks(w, 32).forEach((block, b) => {
    const m = block.reduce((e, v) => (Math.abs(v) > Math.abs(e) ? v : e), 0);
    const step = Math.abs(m) / 8;
    block.forEach((v, i) => {
      const err = Math.abs(back[b * 32 + i]! - v);
      const clipped = Math.sign(v) !== Math.sign(m) && Math.abs(v) > 7.5 * step;
      assert.ok(err <= (clipped ? step : step / 2) * (1 + 1e-6), `block ${b}[${i}]: ${v} → ${back[b * 32 + i]}`);
    });
    assert.equal(back[b * 32 + block.indexOf(m)], Math.fround(m));
  });
});

test('RMS error: int8 ≪ int4, and the Q4_0 rule beats max|w|/7 on bell-shaped weights', () => {
  const w = weights(rows * cols * 4, 3);
  const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - w[i]!) ** 2, 0) / w.length);
  const e8 = rms(expandBlockAffine(quantizeRtn(w, rows * 4, cols, 8)));
  const e4 = rms(expandBlockAffine(quantizeRtn(w, rows * 4, cols, 4)));
  // max|w|/7 with round-to-nearest, for comparison (codes −7…7).
  const seven = new Float32Array(w.length);
  blocks(w, 32).forEach((block, b) => {
    const d = Math.max(...block.map(Math.abs)) / 7;
    block.forEach((v, i) => (seven[b * 32 + i] = d * Math.round(v / d)));
  });
  const e7 = rms(seven);
  assert.ok(e8 < e4 / 10, `int8 ${e8} vs int4 ${e4}`);
  assert.ok(e4 < e7, `Q4_0 rule ${e4} vs max/7 ${e7}`);
});

test('all-zero blocks quantize to zeros; bad shapes and block sizes are refused', () => {
  const q = quantizeRtn(new Float32Array(64), 2, 32, 4);
  assert.ok(expandBlockAffine(q).every((v) => v === 0));
  assert.throws(() => quantizeRtn(new Float32Array(48), 1, 48, 4), /block size 32 must be a power of two ≥ 16 that divides the 48 columns/);
  assert.throws(() => quantizeRtn(new Float32Array(64), 2, 32, 8, 24), /block size 24/);
  assert.throws(() => quantizeRtn(new Float32Array(10), 2, 32, 8), /10 values for \[2, 32\]/);
});
