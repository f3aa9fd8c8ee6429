// @module Tests: the pure scheduling policy, synchronously — chunked prefill, TGI's join rule, budgets, cancellation, eviction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BatcherLimits } from './batcher-contract.ts';
import { BlockAllocator } from './block-allocator.ts';
import type { Schedulable } from './queue.ts';
import { Scheduler, type PrefillWork } from './scheduler.ts';

interface FakeEntry extends Schedulable {
  cancelled: boolean;
}

let nextId = 1;
/** A request with a prompt of `promptLen` distinct tokens and `maxNew` new tokens. */
function entry(promptLen: number, maxNew = 4, reusePrefix = true): FakeEntry {
  const id = nextId++;
  return { id, inputIds: Array.from({ length: promptLen }, (_, i) => id * 1000 + i), totalTokens: promptLen + maxNew, cancelled: false, reusePrefix };
}

function setup(limits: Partial<BatcherLimits> = {}, numBlocks = 64, blockSize = 4, slidingWindow = 0) {
  const allocator = new BlockAllocator({ numBlocks, blockSize });
  const scheduler = new Scheduler<FakeEntry>(
    allocator,
    {
      maxBatchPrefillTokens: 256,
      maxBatchTotalTokens: numBlocks * blockSize,
      maxBatchSize: null,
      waitingServedRatio: 0.3,
      maxWaitingTokens: 20,
      ...limits,
    },
    slidingWindow,
  );
  return { allocator, scheduler };
}

const shape = (work: PrefillWork<FakeEntry>[]) => work.map((w) => ({ id: w.running.entry.id, cacheLen: w.cacheLen, chunkLen: w.chunkLen, isNew: w.isNew }));

test('queued requests are prefilled together and become running; a complete prefill moves them to decoding', () => {
  const { scheduler } = setup();
  const a = entry(5);
  const b = entry(7);
  scheduler.enqueue(a);
  scheduler.enqueue(b);
  const work = scheduler.schedule(0);
  assert.deepEqual(shape(work), [
    { id: a.id, cacheLen: 0, chunkLen: 5, isNew: true },
    { id: b.id, cacheLen: 0, chunkLen: 7, isNew: true },
  ]);
  assert.equal(scheduler.queueSize, 0);
  assert.equal(scheduler.runningSize, 2);
  assert.deepEqual([...scheduler.prefilled(work)], [a.id, b.id]);
  assert.equal(scheduler.prefillingSize, 0);
  assert.deepEqual(scheduler.schedule(2), [], 'nothing left to prefill');
});

test('chunked prefill: a long prompt is computed in budget-sized chunks, continued before any new request', () => {
  const { scheduler } = setup({ maxBatchPrefillTokens: 8 });
  const long = entry(20);
  scheduler.enqueue(long);
  const first = scheduler.schedule(0);
  assert.deepEqual(shape(first), [{ id: long.id, cacheLen: 0, chunkLen: 8, isNew: true }]);
  assert.deepEqual([...scheduler.prefilled(first)], [], 'incomplete: nothing decodes yet');
  assert.equal(scheduler.prefillingSize, 1);

  const late = entry(3);
  scheduler.enqueue(late);
  const second = scheduler.schedule(0);
  assert.deepEqual(shape(second), [{ id: long.id, cacheLen: 8, chunkLen: 8, isNew: false }], 'the chunk uses the whole budget');
  scheduler.prefilled(second);

  const third = scheduler.schedule(0);
  assert.deepEqual(
    shape(third),
    [
      { id: long.id, cacheLen: 16, chunkLen: 4, isNew: false },
      { id: late.id, cacheLen: 0, chunkLen: 3, isNew: true },
    ],
    'the last chunk leaves room for the waiting request',
  );
  assert.deepEqual([...scheduler.prefilled(third)], [long.id, late.id]);
  assert.equal(scheduler.prefillingSize, 0);
});

test('chunked prefill: no chunk smaller than a block after another request in the same prefill', () => {
  const { scheduler } = setup({ maxBatchPrefillTokens: 10 });
  const a = entry(7);
  const b = entry(12);
  scheduler.enqueue(a);
  scheduler.enqueue(b);
  assert.deepEqual(shape(scheduler.schedule(0)), [{ id: a.id, cacheLen: 0, chunkLen: 7, isNew: true }], '3 tokens left < block size 4: b waits');
  assert.equal(scheduler.queueSize, 1);
});

test('join rule: a new request joins a running batch only when large enough, or after max_waiting_tokens steps', () => {
  const { scheduler } = setup({ waitingServedRatio: 0.5, maxWaitingTokens: 3 });
  for (let i = 0; i < 4; i++) scheduler.enqueue(entry(4));
  scheduler.prefilled(scheduler.schedule(0));
  const newcomer = entry(4);
  scheduler.enqueue(newcomer);
  // 4 decoding × 0.5 = at least 2 new requests needed to interrupt decoding.
  assert.deepEqual(scheduler.schedule(4), [], 'one waiting request does not interrupt a batch of 4');
  scheduler.decoded();
  assert.deepEqual(scheduler.schedule(4), [], 'waited 2 steps');
  scheduler.decoded();
  assert.deepEqual(shape(scheduler.schedule(4)), [{ id: newcomer.id, cacheLen: 0, chunkLen: 4, isNew: true }], 'waited max_waiting_tokens steps: joins');
});

test('join rule: enough new requests join at once', () => {
  const { scheduler } = setup({ waitingServedRatio: 0.5 });
  for (let i = 0; i < 4; i++) scheduler.enqueue(entry(4));
  scheduler.prefilled(scheduler.schedule(0));
  scheduler.enqueue(entry(4));
  scheduler.enqueue(entry(4));
  assert.equal(scheduler.schedule(4).length, 2);
});

test('budgets: max_batch_size counts decoding and prefilling requests; max_batch_total_tokens counts reservations', () => {
  const sized = setup({ maxBatchSize: 3 }).scheduler;
  for (let i = 0; i < 5; i++) sized.enqueue(entry(4));
  assert.equal(sized.schedule(0).length, 3);
  assert.deepEqual(sized.schedule(3), [], 'batch full');

  const tokens = setup({ maxBatchTotalTokens: 20 }).scheduler;
  tokens.enqueue(entry(6, 4)); // reserves 10
  tokens.enqueue(entry(6, 4)); // 20
  tokens.enqueue(entry(6, 4)); // would be 30
  assert.equal(tokens.schedule(0).length, 2);
  assert.equal(tokens.queueSize, 1);
});

test('budgets: a request waits for KV blocks and is scheduled once a finished one releases them', () => {
  const { scheduler, allocator } = setup({}, 4, 4); // 16 KV rows
  const a = entry(8, 4); // 3 blocks
  const b = entry(6, 2); // 2 blocks
  scheduler.enqueue(a);
  scheduler.enqueue(b);
  assert.deepEqual(
    shape(scheduler.schedule(0)).map((w) => w.id),
    [a.id],
  );
  assert.equal(scheduler.takeUnfittable(), undefined, 'something runs: b may fit later');
  scheduler.finish(a.id);
  assert.equal(allocator.stats().usedBlocks, 0);
  assert.deepEqual(
    shape(scheduler.schedule(0)).map((w) => w.id),
    [b.id],
  );
});

test('sliding window: blocks behind every window are released after decode steps, and a waiting request gets in', () => {
  const { scheduler, allocator } = setup({}, 6, 4, 6); // 24 KV rows, window 6
  const a = entry(8, 12); // 20 rows: 5 blocks
  const b = entry(6, 2); // 8 rows: 2 blocks
  scheduler.enqueue(a);
  scheduler.enqueue(b);
  const first = scheduler.schedule(0);
  assert.deepEqual(
    shape(first).map((w) => w.id),
    [a.id],
  );
  scheduler.prefilled(first);
  // Next row 8: the query sees rows 3…8, so block 0 (rows 0…3) is still in the window.
  assert.deepEqual(scheduler.schedule(1), [], 'b does not fit yet');
  assert.equal(scheduler.advanced([a.id]), 1, 'next row 9 sees rows 4…9: block 0 is out');
  assert.equal(scheduler.running(a.id)!.allocation.releasedBefore, 1);
  assert.equal(scheduler.advanced([a.id, 999]), 0, 'unknown ids are skipped; block 1 (rows 4…7) is still seen');
  assert.deepEqual(
    shape(scheduler.schedule(1)).map((w) => w.id),
    [b.id],
    'the freed block and rows admit b',
  );
  for (let i = 0; i < 2; i++) scheduler.advanced([a.id]);
  assert.equal(scheduler.running(a.id)!.allocation.releasedBefore, 1, 'next row 12 sees rows 7…12: block 1 (rows 4…7) is still read');
  scheduler.advanced([a.id]);
  assert.equal(scheduler.running(a.id)!.allocation.releasedBefore, 2, 'next row 13 sees rows 8…13');
  scheduler.finish(a.id);
  scheduler.finish(b.id);
  assert.equal(allocator.stats().usedBlocks, 0);
  assert.equal(allocator.stats().freeBlocks + allocator.stats().cachedBlocks, 6, 'every block returned exactly once');
});

test('sliding window: nothing is released without a window, nor for a prompt still prefilling', () => {
  const full = setup({}, 8, 4, 0);
  const a = entry(8, 20);
  full.scheduler.enqueue(a);
  full.scheduler.prefilled(full.scheduler.schedule(0));
  for (let i = 0; i < 20; i++) assert.equal(full.scheduler.advanced([a.id]), 0);
  assert.equal(full.scheduler.running(a.id)!.allocation.releasedBefore, 0);

  const chunked = setup({ maxBatchPrefillTokens: 8 }, 8, 4, 2);
  const long = entry(20, 4);
  chunked.scheduler.enqueue(long);
  chunked.scheduler.prefilled(chunked.scheduler.schedule(0));
  assert.equal(chunked.scheduler.advanced([long.id]), 0, 'a partial prompt does not decode');
  assert.equal(chunked.scheduler.running(long.id)!.decodeSteps, 0);
});

test('eviction: when nothing runs and the head still does not fit, it is taken out as unfittable', () => {
  const { scheduler } = setup({}, 2, 4); // 8 KV rows
  const huge = entry(6, 10);
  scheduler.enqueue(huge);
  assert.deepEqual(scheduler.schedule(0), []);
  assert.equal(scheduler.takeUnfittable(), huge);
  assert.equal(scheduler.queueSize, 0);
});

test('cancellation: a cancelled queued request is never scheduled', () => {
  const { scheduler } = setup();
  const gone = entry(4);
  const kept = entry(4);
  scheduler.enqueue(gone);
  scheduler.enqueue(kept);
  gone.cancelled = true;
  assert.deepEqual(
    shape(scheduler.schedule(0)).map((w) => w.id),
    [kept.id],
  );
});

test('cancellation: a request cancelled between chunks is finished and its blocks freed', () => {
  const { scheduler, allocator } = setup({ maxBatchPrefillTokens: 8 });
  const long = entry(20);
  scheduler.enqueue(long);
  scheduler.prefilled(scheduler.schedule(0));
  assert.ok(allocator.stats().usedBlocks > 0);
  long.cancelled = true;
  assert.deepEqual(
    scheduler.dropCancelledPrefilling().map((r) => r.entry.id),
    [long.id],
  );
  assert.equal(scheduler.runningSize, 0);
  assert.equal(scheduler.prefillingSize, 0);
  assert.equal(allocator.stats().usedBlocks, 0);
  assert.deepEqual(scheduler.schedule(0), []);
});

test('cancellation: keep() finishes the cancelled requests of a decoding batch and returns the rest', () => {
  const { scheduler } = setup();
  const [a, b, c] = [entry(4), entry(4), entry(4)];
  for (const e of [a, b, c]) scheduler.enqueue(e);
  scheduler.prefilled(scheduler.schedule(0));
  b.cancelled = true;
  assert.deepEqual(scheduler.keep([a.id, b.id, c.id]), [a.id, c.id]);
  assert.equal(scheduler.running(b.id), undefined);
  assert.equal(scheduler.runningSize, 2);
});

test('finish: lost() names the running requests the shard left out; finish releases once; finishAll empties', () => {
  const { scheduler, allocator } = setup();
  const [a, b] = [entry(4), entry(4)];
  scheduler.enqueue(a);
  scheduler.enqueue(b);
  scheduler.prefilled(scheduler.schedule(0));
  assert.deepEqual(
    scheduler.lost([a.id, b.id], [a.id]).map((r) => r.entry.id),
    [b.id],
  );
  assert.equal(scheduler.finish(b.id)?.entry, b);
  assert.equal(scheduler.finish(b.id), undefined, 'a second finish is a no-op');
  assert.deepEqual(scheduler.lost([a.id, b.id], [a.id]), [], 'finished requests are not lost');
  assert.deepEqual(
    scheduler.finishAll().map((r) => r.entry.id),
    [a.id],
  );
  assert.equal(allocator.stats().usedBlocks, 0);
});

test('finish: finishing a partly prefilled request (a failed prefill) removes it from the chunk list', () => {
  const { scheduler } = setup({ maxBatchPrefillTokens: 8 });
  const long = entry(20);
  scheduler.enqueue(long);
  scheduler.prefilled(scheduler.schedule(0));
  scheduler.finish(long.id);
  assert.equal(scheduler.prefillingSize, 0);
  assert.deepEqual(scheduler.schedule(0), [], 'no chunk of a finished request is sent');
});

test('prefix reuse: a repeated prompt starts at the cached length once the first one is computed', () => {
  const { scheduler } = setup();
  const first = entry(9);
  scheduler.enqueue(first);
  scheduler.prefilled(scheduler.schedule(0));
  const again: FakeEntry = { ...entry(0), inputIds: first.inputIds, totalTokens: first.totalTokens };
  scheduler.enqueue(again);
  assert.deepEqual(shape(scheduler.schedule(1)), [{ id: again.id, cacheLen: 8, chunkLen: 1, isNew: true }]);
});

test('onlyDecoding (continuous decode may run) holds only while no request waits and no prompt is partly prefilled', () => {
  const { scheduler } = setup({ maxBatchPrefillTokens: 8 });
  assert.equal(scheduler.onlyDecoding, true);
  const long = entry(20);
  scheduler.enqueue(long);
  assert.equal(scheduler.onlyDecoding, false, 'a queued request needs a Prefill');
  scheduler.prefilled(scheduler.schedule(0));
  assert.equal(scheduler.queueSize, 0);
  assert.equal(scheduler.onlyDecoding, false, 'a chunked prompt still needs Prefills');
  scheduler.prefilled(scheduler.schedule(0));
  scheduler.prefilled(scheduler.schedule(0));
  assert.equal(scheduler.prefillingSize, 0);
  assert.equal(scheduler.onlyDecoding, true, 'only the running batch is left');
  // A request that cannot be admitted (blocks) still waits: the batch must keep coming back to the scheduler.
  scheduler.enqueue(entry(4));
  assert.equal(scheduler.onlyDecoding, false);
});
