// @module Tests: KV block accounting — free list, release on every path, prefix reuse, LRU eviction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockAllocator } from './block-allocator.ts';
import { InvalidArgumentError } from '../errors.ts';

const ids = (n: number, start = 10) => Array.from({ length: n }, (_, i) => start + i);

test('allocates ceil(total / blockSize) distinct blocks and returns them on release', () => {
  const a = new BlockAllocator({ numBlocks: 8, blockSize: 4, prefixCaching: false });
  const x = a.allocate(ids(5), 9)!; // 9 rows → 3 blocks
  assert.equal(x.blocks.length, 3);
  assert.equal(new Set(x.blocks).size, 3);
  assert.equal(x.cacheLen, 0);
  assert.equal(a.stats().freeBlocks, 5);
  assert.equal(a.stats().usedBlocks, 3);
  x.release();
  x.release(); // idempotent
  assert.equal(a.stats().freeBlocks, 8);
  assert.equal(a.stats().usedBlocks, 0);
});

test('returns null and changes nothing when the blocks do not fit', () => {
  const a = new BlockAllocator({ numBlocks: 4, blockSize: 4 });
  const x = a.allocate(ids(3), 12)!; // 3 blocks
  const before = a.stats();
  assert.equal(a.allocate(ids(3, 50), 8), null); // needs 2, 1 left
  assert.deepEqual(a.stats(), before);
  x.release();
  assert.notEqual(a.allocate(ids(3, 50), 8), null);
});

test('a second prompt with the same full leading blocks reuses them and skips their tokens', () => {
  const a = new BlockAllocator({ numBlocks: 16, blockSize: 4 });
  const prompt = ids(10); // blocks [0..4) [4..8) full, [8..10) partial
  const first = a.allocate(prompt, 14)!;
  assert.equal(first.cacheLen, 0);
  first.markComputed();
  const second = a.allocate([...prompt.slice(0, 8), 99, 98, 97], 15)!;
  assert.equal(second.cacheLen, 8);
  assert.deepEqual(second.blocks.slice(0, 2), first.blocks.slice(0, 2));
  // Shared blocks are not written twice: the rest are fresh.
  assert.ok(second.blocks.slice(2).every((b) => !first.blocks.includes(b)));
  second.markComputed();
  const s = a.stats();
  assert.equal(s.prefixQueries, 2);
  assert.equal(s.prefixHits, 1);
  assert.equal(s.prefillTokensSkipped, 8);
  assert.equal(s.prefillTokensComputed, 10 + 3);
  first.release();
  second.release();
  assert.equal(a.stats().usedBlocks, 0);
});

test('reusePrefix false (prompt logprobs) computes the whole prompt in blocks of its own', () => {
  const a = new BlockAllocator({ numBlocks: 16, blockSize: 4 });
  const prompt = ids(10);
  const first = a.allocate(prompt, 14)!;
  first.markComputed();
  const again = a.allocate(prompt, 14, false)!;
  assert.equal(again.cacheLen, 0);
  assert.ok(again.blocks.every((b) => !first.blocks.includes(b)));
  first.release();
  again.release();
  assert.equal(a.stats().usedBlocks, 0);
});

test('the last prompt token is always recomputed, in a block of its own', () => {
  const a = new BlockAllocator({ numBlocks: 16, blockSize: 4 });
  const prompt = ids(8); // exactly two full blocks
  const first = a.allocate(prompt, 10)!;
  first.markComputed();
  const again = a.allocate(prompt, 10)!;
  // Block 1 holds the last prompt token: only block 0 is reused.
  assert.equal(again.cacheLen, 4);
  assert.equal(again.blocks[0], first.blocks[0]);
  assert.notEqual(again.blocks[1], first.blocks[1]);
});

test('blocks are reusable only after markComputed (a failed prefill registers nothing)', () => {
  const a = new BlockAllocator({ numBlocks: 16, blockSize: 4 });
  const prompt = ids(9);
  const failed = a.allocate(prompt, 12)!;
  assert.equal(a.allocate(prompt, 12)!.cacheLen, 0); // not computed yet
  failed.release();
  assert.equal(a.stats().cachedBlocks, 0);
  assert.equal(a.allocate(prompt, 12)!.cacheLen, 0);
});

test('released prefix blocks stay cached and are hit again later', () => {
  const a = new BlockAllocator({ numBlocks: 8, blockSize: 4 });
  const prompt = ids(9);
  const x = a.allocate(prompt, 9)!;
  x.markComputed();
  x.release();
  assert.equal(a.stats().cachedBlocks, 2);
  assert.equal(a.stats().freeBlocks, 6);
  const y = a.allocate(prompt, 9)!;
  assert.equal(y.cacheLen, 8);
  assert.equal(a.stats().cachedBlocks, 0);
  y.release();
});

test('cached blocks are evicted least-recently-released first when free blocks run out', () => {
  const a = new BlockAllocator({ numBlocks: 4, blockSize: 2 });
  const p1 = [1, 2, 3];
  const p2 = [7, 8, 9];
  for (const p of [p1, p2]) {
    const x = a.allocate(p, 3)!; // 2 blocks each, block 0 full and hashed
    x.markComputed();
    x.release();
  }
  assert.equal(a.stats().cachedBlocks, 2);
  // Needs 3 blocks: 2 free + evict the oldest cached (p1's).
  const big = a.allocate([40, 41, 42, 43, 44], 5)!;
  assert.equal(big.blocks.length, 3);
  assert.equal(a.stats().cachedBlocks, 1);
  big.release();
  assert.equal(a.allocate(p1, 3)!.cacheLen, 0, 'p1 was evicted');
  assert.equal(a.allocate(p2, 3)!.cacheLen, 2, 'p2 is still cached');
});

test('a hit on a cached block counts toward capacity correctly', () => {
  const a = new BlockAllocator({ numBlocks: 3, blockSize: 2 });
  const p = [1, 2, 3];
  const x = a.allocate(p, 4)!;
  x.markComputed();
  x.release(); // 1 cached, 2 free
  // Reuses the cached block and takes 2 fresh ones: exactly fits.
  const y = a.allocate(p, 6)!;
  assert.equal(y.cacheLen, 2);
  assert.equal(y.blocks.length, 3);
  assert.equal(a.stats().freeBlocks, 0);
  assert.equal(a.allocate([5], 1), null);
});

test('rejects invalid construction arguments', () => {
  assert.throws(() => new BlockAllocator({ numBlocks: 0, blockSize: 16 }), InvalidArgumentError);
  assert.throws(() => new BlockAllocator({ numBlocks: 4, blockSize: 1.5 }), InvalidArgumentError);
});

test('forgetCachedPrefixes (the shards restarted): cached blocks become free and no prefix is reused', () => {
  const a = new BlockAllocator({ numBlocks: 16, blockSize: 4 });
  const prompt = ids(10);
  const first = a.allocate(prompt, 14)!;
  first.markComputed();
  first.release();
  assert.equal(a.stats().cachedBlocks, 2);
  a.forgetCachedPrefixes();
  assert.equal(a.stats().cachedBlocks, 0);
  assert.equal(a.stats().freeBlocks, 16);
  const again = a.allocate(prompt, 14)!;
  assert.equal(again.cacheLen, 0, 'the lost KV is computed again');
  again.release();
  assert.equal(a.stats().freeBlocks, 16);
});

test('releaseBefore returns the leading blocks once; release() returns only the rest', () => {
  const a = new BlockAllocator({ numBlocks: 8, blockSize: 4, prefixCaching: false });
  const x = a.allocate(ids(5), 16)!; // 4 blocks
  x.releaseBefore(2);
  assert.equal(x.releasedBefore, 2);
  assert.equal(a.stats().freeBlocks, 6);
  x.releaseBefore(1); // never goes back
  x.releaseBefore(2);
  assert.equal(x.releasedBefore, 2);
  assert.equal(a.stats().freeBlocks, 6);
  x.releaseBefore(99); // clamped to the allocation
  assert.equal(x.releasedBefore, 4);
  assert.equal(a.stats().freeBlocks, 8);
  x.release();
  assert.equal(a.stats().freeBlocks, 8, 'no block is returned twice');
  assert.equal(a.stats().usedBlocks, 0);
});

test('an early-released block goes to another request at once; the first one keeps the rest', () => {
  const a = new BlockAllocator({ numBlocks: 4, blockSize: 4, prefixCaching: false });
  const x = a.allocate(ids(5), 16)!; // all 4 blocks
  assert.equal(a.allocate(ids(3, 50), 4), null);
  x.releaseBefore(1);
  const y = a.allocate(ids(3, 50), 4)!;
  assert.deepEqual(y.blocks, [x.blocks[0]]);
  x.release();
  y.release();
  assert.equal(a.stats().freeBlocks, 4);
});

test('early-released prompt blocks stay cached (intact) for new prompts until evicted', () => {
  const a = new BlockAllocator({ numBlocks: 6, blockSize: 4 });
  const prompt = ids(10); // full blocks 0, 1; partial 2
  const x = a.allocate(prompt, 16)!; // 4 blocks
  x.markComputed();
  x.releaseBefore(3); // two hashed prompt blocks and the partial one
  assert.equal(a.stats().cachedBlocks, 2);
  assert.equal(a.stats().freeBlocks, 3);
  const hit = a.allocate(prompt, 12)!;
  assert.equal(hit.cacheLen, 8, 'the early-released prompt blocks serve as a prefix');
  assert.deepEqual(hit.blocks.slice(0, 2), x.blocks.slice(0, 2));
  hit.release();
  // Evicted for another request: gone from the cache, no longer a prefix.
  const big = a.allocate(ids(4, 200), 20)!; // 5 blocks: 3 free + 2 evicted
  assert.equal(a.stats().cachedBlocks, 0);
  big.release();
  x.release();
  assert.equal(a.allocate(prompt, 12)!.cacheLen, 0);
});

test('markComputed does not register blocks released before it', () => {
  const a = new BlockAllocator({ numBlocks: 6, blockSize: 4 });
  const prompt = ids(10);
  const x = a.allocate(prompt, 12)!;
  x.releaseBefore(1); // block 0 returned unhashed: free, may hold anything now
  const other = a.allocate(ids(3, 300), 4)!;
  assert.deepEqual(other.blocks, [x.blocks[0]]);
  x.markComputed();
  const again = a.allocate(prompt, 12)!;
  assert.equal(again.cacheLen, 0, 'block 0 is not a prefix (and block 1 alone cannot be: the chain starts at 0)');
  assert.ok(!again.blocks.includes(other.blocks[0]!), 'the block another request holds is not handed out as a hit');
  again.release();
  other.release();
  x.release();
  assert.equal(a.stats().usedBlocks, 0);
  assert.equal(a.stats().freeBlocks + a.stats().cachedBlocks, 6);
});
