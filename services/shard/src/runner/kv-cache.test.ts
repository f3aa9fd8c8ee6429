// @module KV pools: sizing from a budget, slots, row writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesPerBlock, KvCache, planNumBlocks } from './kv-cache.ts';
import { compactPools } from './kv/compact-host.ts';

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
  assert.equal(
    kv.k[0]!.some((x) => x !== 0),
    false,
  );
  assert.equal(kv.k[1]!.filter((x) => x !== 0).length, 6);
});

test('compactPools: only the blocks a table reads, per head, renumbered in first-seen order', () => {
  const kv = new KvCache({ ...g, numLayers: 1 }, 5); // 2 heads × 5 blocks × 4 slots × 3 floats
  kv.k[0]!.forEach((_, i, a) => (a[i] = i));
  kv.v[0]!.forEach((_, i, a) => (a[i] = -i));
  const c = compactPools(kv, BigInt64Array.from([3n, 1n, 3n, 0n]));
  assert.equal(c.blocks, 3);
  assert.deepEqual([...c.blockTable], [0n, 1n, 0n, 2n]);
  const blockFloats = 4 * 3;
  const block = (pool: ArrayLike<number>, head: number, b: number, n: number) =>
    Array.from(pool).slice((head * n + b) * blockFloats, (head * n + b + 1) * blockFloats);
  for (let h = 0; h < 2; h++) {
    [3, 1, 0].forEach((orig, at) => {
      assert.deepEqual(block(c.k[0]!, h, at, 3), block(kv.k[0]!, h, orig, 5));
      assert.deepEqual(block(c.v[0]!, h, at, 3), block(kv.v[0]!, h, orig, 5));
    });
  }
});
