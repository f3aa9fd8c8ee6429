// @module Tests: the waiting queue's nextBatch budgets (TGI v3 rules) with fake entries and a real allocator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockAllocator } from './block-allocator.ts';
import { Queue, type BatchBudget, type Schedulable } from './queue.ts';

interface Fake extends Schedulable {
  cancelled: boolean;
}
let nextId = 1;
const entry = (promptLen: number, maxNew: number): Fake => ({
  id: nextId++,
  inputIds: Array.from({ length: promptLen }, (_, i) => 1000 * nextId + i),
  totalTokens: promptLen + maxNew,
  cancelled: false,
});
const budget = (b: Partial<BatchBudget> = {}): BatchBudget => ({
  minSize: null,
  maxSize: null,
  prefillTokenBudget: 1000,
  tokenBudget: 1000,
  ...b,
});

test('takes entries in FIFO order while they fit', () => {
  const q = new Queue<Fake>();
  const es = [entry(4, 4), entry(4, 4), entry(4, 4)];
  es.forEach((e) => q.append(e));
  const got = q.nextBatch(budget(), new BlockAllocator({ numBlocks: 100, blockSize: 4 }))!;
  assert.deepEqual(
    got.map((g) => g.entry.id),
    es.map((e) => e.id),
  );
  assert.equal(q.length, 0);
});

test('stops at the prefill token budget, keeping the rest queued in order', () => {
  const q = new Queue<Fake>();
  const es = [entry(6, 1), entry(6, 1), entry(6, 1)];
  es.forEach((e) => q.append(e));
  const alloc = new BlockAllocator({ numBlocks: 100, blockSize: 4 });
  const got = q.nextBatch(budget({ prefillTokenBudget: 12 }), alloc)!;
  assert.equal(got.length, 2);
  assert.equal(q.length, 1);
  assert.equal(q.nextBatch(budget({ prefillTokenBudget: 12 }), alloc)![0]!.entry.id, es[2]!.id);
});

test('stops at the total token budget and at maxSize', () => {
  const q = new Queue<Fake>();
  [entry(4, 6), entry(4, 6), entry(4, 6)].forEach((e) => q.append(e));
  const alloc = new BlockAllocator({ numBlocks: 100, blockSize: 4 });
  assert.equal(q.nextBatch(budget({ tokenBudget: 25 }), alloc)!.length, 2);
  q.append(entry(1, 1));
  assert.equal(q.nextBatch(budget({ maxSize: 1 }), alloc)!.length, 1);
  assert.equal(q.length, 1);
});

test('admits only what the allocator can hold for prompt + max_new_tokens', () => {
  const q = new Queue<Fake>();
  [entry(4, 12), entry(4, 12)].forEach((e) => q.append(e)); // 4 blocks each
  const alloc = new BlockAllocator({ numBlocks: 6, blockSize: 4 });
  const got = q.nextBatch(budget(), alloc)!;
  assert.equal(got.length, 1);
  assert.equal(alloc.stats().usedBlocks, 4);
  assert.equal(q.nextBatch(budget(), alloc), null);
  got[0]!.allocation.release();
  assert.equal(q.nextBatch(budget(), alloc)!.length, 1);
});

test('below minSize nothing is taken and every allocation is undone', () => {
  const q = new Queue<Fake>();
  [entry(4, 4), entry(4, 4)].forEach((e) => q.append(e));
  const alloc = new BlockAllocator({ numBlocks: 100, blockSize: 4 });
  assert.equal(q.nextBatch(budget({ minSize: 3 }), alloc), null);
  assert.equal(alloc.stats().usedBlocks, 0);
  assert.equal(q.length, 2);
  assert.equal(q.nextBatch(budget({ minSize: 2 }), alloc)!.length, 2);
});

test('cancelled entries are dropped, never scheduled', () => {
  const q = new Queue<Fake>();
  const [a, b] = [entry(4, 4), entry(4, 4)];
  q.append(a);
  q.append(b);
  a.cancelled = true;
  const got = q.nextBatch(budget(), new BlockAllocator({ numBlocks: 100, blockSize: 4 }))!;
  assert.deepEqual(
    got.map((g) => g.entry.id),
    [b.id],
  );
});

test('prefix-cache hits do not count against the prefill budget', () => {
  const alloc = new BlockAllocator({ numBlocks: 100, blockSize: 4 });
  const shared = Array.from({ length: 9 }, (_, i) => i + 1);
  const first = alloc.allocate(shared, 10)!;
  first.markComputed();
  const q = new Queue<Fake>();
  q.append({ id: 1, inputIds: shared, totalTokens: 10, cancelled: false });
  // 9 prompt tokens, 8 cached → 1 computed: fits a budget of 1.
  const got = q.nextBatch(budget({ prefillTokenBudget: 1 }), alloc)!;
  assert.equal(got[0]!.allocation.cacheLen, 8);
});

test('chunked prefill: an entry over the remaining prefill budget is taken last with a first chunk', () => {
  const q = new Queue<Fake>();
  const es = [entry(6, 1), entry(20, 1), entry(2, 1)];
  es.forEach((e) => q.append(e));
  const alloc = new BlockAllocator({ numBlocks: 100, blockSize: 4 });
  const got = q.nextBatch(budget({ prefillTokenBudget: 12, minChunkTokens: 4 }), alloc)!;
  assert.deepEqual(
    got.map((g) => [g.entry.id, g.prefillLen]),
    [
      [es[0]!.id, 6],
      [es[1]!.id, 6],
    ],
  );
  assert.equal(q.length, 1);
  // Blocks for the whole prompt + generation are reserved at once, even for a chunked entry.
  assert.equal(got[1]!.allocation.blocks.length, 6);
});

test('chunked prefill: no chunk smaller than minChunkTokens after another entry; the first entry always gets one', () => {
  const alloc = new BlockAllocator({ numBlocks: 100, blockSize: 4 });
  const q = new Queue<Fake>();
  [entry(10, 1), entry(20, 1)].forEach((e) => q.append(e));
  assert.equal(q.nextBatch(budget({ prefillTokenBudget: 12, minChunkTokens: 4 }), alloc)!.length, 1);
  const alone = new Queue<Fake>();
  alone.append(entry(20, 1));
  assert.equal(alone.nextBatch(budget({ prefillTokenBudget: 3, minChunkTokens: 4 }), alloc)![0]!.prefillLen, 3);
  const noChunking = new Queue<Fake>();
  noChunking.append(entry(20, 1));
  assert.equal(noChunking.nextBatch(budget({ prefillTokenBudget: 3 }), alloc), null);
});
