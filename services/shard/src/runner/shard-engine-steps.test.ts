// @module The engine's step bookkeeping on fake logits: sampling, prompt logprobs, tensor-parallel choices, finish and cancel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CachedBatch } from '@tessera/protocol';
import { logSoftmax } from '../sampler/sampler.ts';
import { batchOf, decodeStream, engineOn, FakeChannel, FakeRunner, request, rowAfter } from './shard-engine.test-helper.ts';

test('rank 0 samples each request from its own last row, reports raw logprobs and top-n, and caches the survivors', async () => {
  const runner = new FakeRunner();
  const engine = engineOn(runner);
  const pre = await engine.prefill(batchOf(1, [request(1, [1, 2, 3], { topNTokens: 2 }), request(2, [5])]));
  assert.deepEqual(
    pre.generations.map((g) => g.tokens.ids),
    [[4], [6]],
  );
  assert.ok(Math.abs(pre.generations[0]!.tokens.logprobs[0]! - logSoftmax(rowAfter(3))[4]!) < 1e-6);
  assert.deepEqual(pre.generations[0]!.topTokens[0]!.ids, [4, 7], 'top-2 of the raw distribution');
  assert.deepEqual(pre.generations[1]!.topTokens, [], 'no top-n asked');
  assert.deepEqual(pre.batch?.requestIds, [1, 2]);
  assert.equal(pre.timings.computedTokens, 4);

  const dec = await engine.decode({ batches: [pre.batch!] });
  assert.deepEqual(runner.fed[1], [[4], [6]], 'decode feeds each chosen token');
  assert.deepEqual(
    dec.generations.map((g) => [g.tokens.ids[0], g.generatedTokens]),
    [
      [5, 2],
      [7, 2],
    ],
  );
});

test('prompt logprobs: each prompt token scored by the row before it (the first NaN); sampling reads the last row', async () => {
  const engine = engineOn(new FakeRunner());
  const pre = await engine.prefill(batchOf(1, [request(1, [1, 2, 6], { prefillLogprobs: true, topNTokens: 1 }), request(2, [3])]));
  const [scored, plain] = pre.generations;
  assert.deepEqual(scored!.prefillTokens!.ids, [1, 2, 6]);
  const lp = scored!.prefillTokens!.logprobs;
  assert.ok(Number.isNaN(lp[0]!));
  assert.ok(Math.abs(lp[1]! - logSoftmax(rowAfter(1))[2]!) < 1e-6, 'token 2 after 1: the favourite');
  assert.ok(Math.abs(lp[2]! - logSoftmax(rowAfter(2))[6]!) < 1e-6, 'token 6 after 2: not the favourite');
  assert.deepEqual(
    scored!.prefillTopTokens!.map((t) => t.ids),
    [[], [2], [3]],
  );
  assert.equal(scored!.tokens.ids[0], 7, 'sampled from the row after the last prompt token');
  assert.equal(plain!.prefillTokens, null);
  assert.equal(plain!.tokens.ids[0], 4);
});

test('a prompt chunk short of the end samples nothing, is not cached, and scores only its own tokens', async () => {
  const runner = new FakeRunner();
  const engine = engineOn(runner);
  const pre = await engine.prefill(batchOf(1, [request(1, [1, 2, 3, 4, 5, 6], { chunkLen: 3, cacheLen: 2, prefillLogprobs: true }), request(2, [0])]));
  assert.deepEqual(runner.fed[0], [[3, 4, 5], [0]]);
  const chunk = pre.generations[0]!;
  assert.deepEqual([chunk.tokens.ids, chunk.finishReason, chunk.generatedTokens], [[], 'FINISH_REASON_UNSPECIFIED', 0]);
  assert.deepEqual(chunk.prefillTokens!.ids, [1, 2, 3, 4, 5, 6], 'the prompt up to the chunk end + 1');
  assert.deepEqual(chunk.prefillTokens!.logprobs.map(Number.isNaN), [true, true, true, false, false, false]);
  assert.deepEqual(pre.batch?.requestIds, [2], 'the chunked request leaves the shard');
});

test('finishing: max_new_tokens, a stop id only after min_new_tokens, full blocks; finished requests leave the cached batch', async () => {
  const engine = engineOn(new FakeRunner());
  const requests = [
    request(1, [0], { stoppingParameters: { maxNewTokens: 2, stopTokenIds: [], minNewTokens: 0 } }),
    // Favourite after 0 is 1, then 2: the stop id 1 is forbidden while fewer than 2 tokens exist.
    request(2, [0], { stoppingParameters: { maxNewTokens: 16, stopTokenIds: [1, 3], minNewTokens: 2 } }),
    request(3, [0, 0, 0, 0, 0, 0, 0], { stoppingParameters: { maxNewTokens: 16, stopTokenIds: [], minNewTokens: 0 } }),
  ];
  const pre = await engine.prefill(batchOf(7, requests));
  assert.equal(pre.generations[1]!.tokens.ids[0], 7, 'the favourite (stop id 1) suppressed before min_new_tokens: the next best');
  assert.ok(pre.generations.every((g) => g.finishReason === 'FINISH_REASON_UNSPECIFIED'));
  const d1 = await engine.decode({ batches: [pre.batch!] });
  assert.deepEqual(
    d1.generations.map((g) => g.finishReason),
    ['FINISH_REASON_LENGTH', 'FINISH_REASON_UNSPECIFIED', 'FINISH_REASON_LENGTH'],
  );
  assert.equal(d1.generations[2]!.generatedTokens, 2, "7 prompt + 2 generated = 9 > two blocks of 4: no room for the last token's K/V");
  assert.deepEqual(d1.batch?.requestIds, [2]);
  let batch: CachedBatch | null = d1.batch;
  let last = d1.generations[0]!;
  while (batch !== null) {
    const d = await engine.decode({ batches: [batch] });
    last = d.generations[0]!;
    batch = d.batch;
  }
  // 7 → 0 (second token), 0 → 1: a stop id, now allowed.
  assert.deepEqual([last.finishReason, last.tokens.ids[0], last.generatedTokens], ['FINISH_REASON_EOS_TOKEN', 1, 3]);
});

test('cancel: FilterBatch drops requests from the cached batch, ClearCache forgets it', async () => {
  const runner = new FakeRunner();
  const engine = engineOn(runner);
  const pre = await engine.prefill(batchOf(3, [request(1, [1]), request(2, [2]), request(3, [3])]));
  const kept = engine.filterBatch({ batchId: 3, requestIds: [1, 3] });
  assert.deepEqual(kept.batch?.requestIds, [1, 3]);
  const dec = await engine.decode({ batches: [kept.batch!] });
  assert.deepEqual(runner.fed[1], [[2], [4]], 'only the kept requests run');
  assert.deepEqual(
    dec.generations.map((g) => g.requestId),
    [1, 3],
  );
  assert.equal(engine.filterBatch({ batchId: 3, requestIds: [] }).batch, null);
  const again = await engine.prefill(batchOf(4, [request(4, [1])]));
  engine.clearCache({ id: 4 });
  await assert.rejects(engine.decode({ batches: [again.batch!] }), /batch 4 not found/);
  assert.ok(pre.batch !== null);
});

test('tensor parallel: rank 0 broadcasts its choices (-1 for a chunk); rank 1 applies them instead of its own logits', async () => {
  const rank0 = new FakeChannel(0);
  const e0 = engineOn(new FakeRunner(rank0));
  const req = () => [request(1, [1, 2], { prefillLogprobs: true }), request(2, [1, 2, 3, 4, 5], { chunkLen: 2 }), request(3, [6])];
  const pre0 = await e0.prefill(batchOf(1, req()));
  assert.deepEqual(rank0.sent, [[3, -1, 7]]);

  // Rank 1's logits would choose 3 and 7 too: script other ids to show they come from rank 0.
  const rank1 = new FakeChannel(1, [
    [5, -1, 0],
    [1, 2],
  ]);
  const runner1 = new FakeRunner(rank1);
  const e1 = engineOn(runner1, 1);
  const pre1 = await e1.prefill(batchOf(1, req()));
  assert.deepEqual(
    pre1.generations.map((g) => g.tokens.ids),
    [[5], [], [0]],
  );
  assert.equal(pre1.generations[0]!.prefillTokens, null, "prompt logprobs are rank 0's");
  assert.deepEqual(pre1.batch, pre0.batch, 'both ranks cache the same batch');
  const d1 = await e1.decode({ batches: [pre1.batch!] });
  assert.deepEqual(runner1.fed[1], [[5], [0]], "rank 1 feeds rank 0's ids");
  assert.deepEqual(
    d1.generations.map((g) => g.tokens.ids[0]),
    [1, 2],
  );
  assert.equal(rank1.sent.length, 0, 'only rank 0 sends');
});

test('continuous decode steps the batch on its own until every request finishes, with the same tokens as Decode calls', async () => {
  const reqs = () => [request(1, [1], { stoppingParameters: { maxNewTokens: 3, stopTokenIds: [], minNewTokens: 0 } }), request(2, [5])];
  const byCalls = engineOn(new FakeRunner());
  let cached = (await byCalls.prefill(batchOf(1, reqs()))).batch;
  const expected: number[][] = [];
  while (cached !== null && expected.length < 5) {
    const d = await byCalls.decode({ batches: [cached] });
    expected.push(d.generations.map((g) => g.tokens.ids[0]!));
    cached = d.batch;
  }
  const streamed = engineOn(new FakeRunner());
  const pre = await streamed.prefill(batchOf(1, reqs()));
  // A stop sent after step 4 arrives while step 5 is in flight (controls are read after each forward).
  const steps = await decodeStream(streamed, [pre.batch!], (k, send) => k === 4 && send({ dropRequestIds: [], stop: true }));
  assert.deepEqual(
    steps.map((s) => s.generations.map((g) => g.tokens.ids[0]!)),
    expected,
  );
  // Request 1 reached max_new_tokens at the second step and left; the stop ended the loop after step 5.
  assert.deepEqual(steps[1]!.batch?.requestIds, [2]);
  assert.equal(steps.length, 5);
  // What survives stays cached for a later Decode, as after a Decode call.
  const later = await streamed.decode({ batches: [steps.at(-1)!.batch!] });
  assert.deepEqual(
    later.generations.map((g) => g.requestId),
    [2],
  );
});

test('continuous decode: a dropped request leaves the batch at the next step boundary; the loop ends when none is left', async () => {
  const engine = engineOn(new FakeRunner());
  const pre = await engine.prefill(batchOf(1, [request(1, [1]), request(2, [5])]));
  const steps = await decodeStream(engine, [pre.batch!], (k, send) => {
    if (k === 2) send({ dropRequestIds: [1], stop: false });
    if (k === 4) send({ dropRequestIds: [2], stop: false });
  });
  assert.deepEqual(
    steps.map((s) => s.batch?.requestIds ?? []),
    [[1, 2], [1, 2], [2], [2], []],
  );
  assert.deepEqual(
    steps[2]!.generations.map((g) => g.requestId),
    [1, 2],
  ); // the drop applies after the step that reads it
  await assert.rejects(engine.decode({ batches: [{ id: 1, requestIds: [2], size: 1, maxTokens: 8 }] }), /not found/);
});

test('continuous decode, tensor parallel: rank 0 sends its controls with its choices; rank 1 drops and stops at the same step', async () => {
  const reqs = () => [request(1, [1]), request(2, [5])];
  const channel0 = new FakeChannel(0);
  const rank0 = engineOn(new FakeRunner(channel0));
  const pre0 = await rank0.prefill(batchOf(1, reqs()));
  const steps0 = await decodeStream(rank0, [pre0.batch!], (k, send) => {
    if (k === 1) send({ dropRequestIds: [2], stop: false });
    if (k === 3) send({ dropRequestIds: [], stop: true });
  });
  // Prefill's broadcast is the ids alone; each streamed step appends [stop, ...dropped ids].
  assert.deepEqual(channel0.sent, [
    [2, 6],
    [3, 7, 0],
    [4, 0, 0, 2],
    [5, 0],
    [6, 1],
  ]);
  const channel1 = new FakeChannel(
    1,
    channel0.sent.map((s) => [...s]),
  );
  const rank1 = engineOn(new FakeRunner(channel1), 1);
  await rank1.prefill(batchOf(1, reqs()));
  const steps1 = await decodeStream(rank1, [pre0.batch!]);
  // Rank 1 emits only its last step, with the same batch as rank 0's last.
  assert.equal(steps1.length, 1);
  assert.deepEqual(steps1[0]!.batch, steps0.at(-1)!.batch);
  assert.deepEqual(steps0.at(-1)!.batch?.requestIds, [1]);
});
