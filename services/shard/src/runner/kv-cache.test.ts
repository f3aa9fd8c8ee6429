// @module KV pools: sizing from a budget, slots, row writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesPerBlock, KvCache, planNumBlocks } from './kv-cache.ts';

const g = { numLayers: 2, blockSize: 4, numKvHeads: 2, headDim: 3 };

test('sizing: budget / bytes per block, but at least one max_total_tokens request', () => {
  assert.equal(bytesPerBlock(g), 2 * 2 * 4 * 2 * 3 * 4);
  assert.equal(planNumBlocks(g, 10 * bytesPerBlock(g) + 5, 8), 10);
  assert.equal(planNumBlocks(g, 1, 9), 3);
});

test('slots and writeRows place rows in the pools, skipping padding', () => {
  const kv = new KvCache(g, 5);
  assert.equal(kv.capacityTokens, 20);
  assert.equal(kv.bytes, 5 * bytesPerBlock(g));
  assert.equal(kv.slotOf([3, 1], 5), 1 * 4 + 1);
  assert.throws(() => kv.slotOf([3], 4), /beyond/);
  assert.throws(() => kv.slotOf([7], 0), /outside the pool/);
  // new rows arrive as [kvH=2, rows=2, D=3]; row 1 is padding
  const k = Float32Array.from({ length: 12 }, (_, i) => i + 1);
  const v = k.map((x) => -x);
  kv.writeRows(1, [13, -1], k, v);
  const headStride = 5 * 4 * 3;
  assert.deepEqual([...kv.k[1]!.subarray(13 * 3, 14 * 3)], [1, 2, 3]);
  assert.deepEqual([...kv.k[1]!.subarray(headStride + 13 * 3, headStride + 14 * 3)], [7, 8, 9]);
  assert.deepEqual([...kv.v[1]!.subarray(headStride + 13 * 3, headStride + 14 * 3)], [-7, -8, -9]);
  assert.equal(kv.k[0]!.some((x) => x !== 0), false);
  assert.equal(kv.k[1]!.filter((x) => x !== 0).length, 6);
});
