// @module Tests: the batching loop against a scripted gRPC shard — batching, joining, cancellation, failures, shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Generation } from '@tessera/protocol';
import { TextTokenizer } from '@tessera/tokenization';
import { syntheticSentencePieceFiles } from '@tessera/testing';
import { ShardedClient } from '../shard-client/sharded-client.ts';
import { type CallRecord, startScriptedShard, type RunningScriptedShard, type ScriptedShardOptions } from '../testing/scripted-shard.ts';
import { Validator } from '../validation/validate.ts';
import type { RawParameters } from '../validation/valid-request.ts';
import { Batcher, type BatcherLimits, type GenerationSink } from './batcher.ts';
import { BlockAllocator } from './block-allocator.ts';

const tokenizer = TextTokenizer.fromFiles(syntheticSentencePieceFiles());
const validator = new Validator({ tokenizer, chatTemplate: null, limits: { maxInputTokens: 60, maxTotalTokens: 64 }, eosTokenIds: [2] });

/** Records what the batcher tells one request; finishes after `stopAfter` tokens when set (a router-side stop). */
class RecordingSink implements GenerationSink {
  cancelled = false;
  tokens: number[] = [];
  finish: string | null = null;
  error: { message: string; type: string } | null = null;
  #done: () => void = () => {};
  readonly done = new Promise<void>((r) => (this.#done = r));
  constructor(private readonly stopAfter: number | null = null) {}
  onScheduled(): void {}
  onGeneration(g: Generation): boolean {
    if (this.finish !== null || this.error !== null || this.cancelled) return true;
    this.tokens.push(...g.tokens.ids);
    if (g.finishReason !== 'FINISH_REASON_UNSPECIFIED') this.finish = g.finishReason;
    else if (this.stopAfter !== null && this.tokens.length >= this.stopAfter) this.finish = 'router-stop';
    if (this.finish !== null) this.#done();
    return this.finish !== null;
  }
  onError(message: string, type = 'generation'): void {
    this.error ??= { message, type };
    this.#done();
  }
}

/** Polls until `check` holds (the shard sees ClearCache/FilterBatch just after the sinks are done). */
async function eventually(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

interface Setup {
  batcher: Batcher;
  allocator: BlockAllocator;
  shard: RunningScriptedShard;
  client: ShardedClient;
  submit(params?: RawParameters, sink?: RecordingSink, prompt?: string): RecordingSink;
  close(): Promise<void>;
}

/** How the running batch decodes: continuously (DecodeStream, the default) or one Decode call per step. */
interface Mode {
  continuous: boolean;
}

/** Every test runs in both decode modes: the batching semantics must not depend on it. */
function both(name: string, fn: (mode: Mode) => Promise<void>): void {
  test(`${name} (continuous decode)`, () => fn({ continuous: true }));
  test(`${name} (one Decode per step)`, () => fn({ continuous: false }));
}

async function setup(mode: Mode, shardOpts: ScriptedShardOptions = {}, limits: Partial<BatcherLimits> = {}, numBlocks = 64): Promise<Setup> {
  const shard = await startScriptedShard({ vocabSize: 305, blockSize: 4, numBlocks, ...shardOpts });
  const client = new ShardedClient([shard.uri]);
  await client.connect(5000);
  const allocator = new BlockAllocator({ numBlocks, blockSize: 4 });
  const batcher = new Batcher({
    shards: client,
    allocator,
    continuousDecode: mode.continuous,
    limits: { maxBatchPrefillTokens: 256, maxBatchTotalTokens: numBlocks * 4, maxBatchSize: null, waitingServedRatio: 0.3, maxWaitingTokens: 20, ...limits },
  });
  return {
    batcher,
    allocator,
    shard,
    client,
    submit(params = { maxNewTokens: 8 }, sink = new RecordingSink(), prompt = 'Hello a') {
      batcher.submit(validator.validate({ dialect: 'tgi', input: { kind: 'text', value: prompt, field: 'inputs' }, params, fields: {} }), sink);
      return sink;
    },
    async close() {
      await batcher.close();
      client.close();
      await shard.close();
    },
  };
}

both('concurrent requests are prefilled together and decoded as one batch until max_new_tokens', async (mode) => {
  const s = await setup(mode);
  try {
    const sinks = [s.submit(), s.submit(), s.submit()];
    await Promise.all(sinks.map((k) => k.done));
    for (const k of sinks) {
      assert.equal(k.error, null);
      assert.equal(k.finish, 'FINISH_REASON_LENGTH');
      assert.deepEqual(k.tokens, [261, 262, 263, 264, 265, 266, 267, 268]); // "a"=260, then +1 each step
    }
    const prefills = s.shard.shard.calls.filter((c) => c.method === 'prefill');
    assert.equal(prefills.length, 1);
    assert.equal(prefills[0]!.requestIds.length, 3);
    assert.equal(s.shard.shard.calls.filter((c) => c.method === 'decode').length, 7);
    assert.equal(s.allocator.stats().usedBlocks, 0);
    await eventually(() => s.shard.shard.liveRequestIds().length === 0);
  } finally {
    await s.close();
  }
});

both('a request arriving mid-generation is prefilled alone, then decoded together with the running batch', async (mode) => {
  const s = await setup(mode, { stepDelayMs: 5 }, { waitingServedRatio: 0 });
  try {
    const first = s.submit({ maxNewTokens: 12 });
    await new Promise((r) => setTimeout(r, 25));
    const second = s.submit({ maxNewTokens: 4 });
    await Promise.all([first.done, second.done]);
    assert.equal(first.tokens.length, 12);
    assert.equal(second.tokens.length, 4);
    const joined = s.shard.shard.calls.find((c) => c.method === 'decode' && c.batchIds.length === 2);
    assert.ok(joined, 'a Decode concatenated two cached batches');
  } finally {
    await s.close();
  }
});

both('a cancelled request is filtered out at the next step and its blocks freed; others continue', async (mode) => {
  const s = await setup(mode, { stepDelayMs: 3 });
  try {
    const keep = s.submit({ maxNewTokens: 20 });
    const gone = s.submit({ maxNewTokens: 20 });
    await new Promise((r) => setTimeout(r, 15));
    gone.cancelled = true;
    await keep.done;
    assert.equal(keep.tokens.length, 20);
    assert.ok(gone.tokens.length < 20);
    const filter = s.shard.shard.calls.find((c) => c.method === 'filterBatch');
    assert.ok(filter, 'FilterBatch was sent');
    assert.equal(s.allocator.stats().usedBlocks, 0);
  } finally {
    await s.close();
  }
});

both('a router-side stop ends the request and filters it out; the batch empties (ClearCache, or a drop in the stream)', async (mode) => {
  const s = await setup(mode);
  try {
    const a = s.submit({ maxNewTokens: 20 }, new RecordingSink(3));
    await a.done;
    assert.equal(a.tokens.length, 3);
    await eventually(() => s.shard.shard.liveRequestIds().length === 0);
    const emptied = mode.continuous ? (c: CallRecord) => c.method === 'filterBatch' && c.requestIds.length === 0 : (c: CallRecord) => c.method === 'clearCache';
    assert.ok(s.shard.shard.calls.some(emptied));
    assert.equal(s.allocator.stats().usedBlocks, 0);
  } finally {
    await s.close();
  }
});

both('EOS from the shard finishes a request (stop token ids include EOS)', async (mode) => {
  const s = await setup(mode);
  try {
    // "!" is 292; the toy model continues 293 … 304, 0, 1, 2 (EOS).
    const k = s.submit({ maxNewTokens: 40 }, new RecordingSink(), 'Hello !');
    await k.done;
    assert.equal(k.finish, 'FINISH_REASON_EOS_TOKEN');
    assert.equal(k.tokens.at(-1), 2);
  } finally {
    await s.close();
  }
});

both('a Decode failure gives every request of the batch an error, clears it and frees all blocks', async (mode) => {
  const s = await setup(mode, { stepDelayMs: 2 });
  try {
    const sinks = [s.submit({ maxNewTokens: 30 }), s.submit({ maxNewTokens: 30 })];
    await new Promise((r) => setTimeout(r, 10));
    s.shard.shard.failNext = { method: 'decode', message: 'device lost' };
    await Promise.all(sinks.map((k) => k.done));
    for (const k of sinks) assert.match(k.error?.message ?? '', /device lost/);
    assert.equal(s.allocator.stats().usedBlocks, 0);
    await eventually(() => s.shard.shard.liveRequestIds().length === 0);
    // The router keeps serving afterwards.
    const after = s.submit({ maxNewTokens: 2 });
    await after.done;
    assert.equal(after.error, null);
    assert.equal(after.tokens.length, 2);
  } finally {
    await s.close();
  }
});

both('a Prefill failure fails only the new batch; the running one continues', async (mode) => {
  const s = await setup(mode, { stepDelayMs: 3 }, { waitingServedRatio: 0 });
  try {
    const running = s.submit({ maxNewTokens: 15 });
    await new Promise((r) => setTimeout(r, 12));
    s.shard.shard.failNext = { method: 'prefill', message: 'prefill exploded' };
    const doomed = s.submit({ maxNewTokens: 5 });
    await Promise.all([running.done, doomed.done]);
    assert.match(doomed.error?.message ?? '', /prefill exploded/);
    assert.equal(running.error, null);
    assert.equal(running.tokens.length, 15);
    assert.equal(s.allocator.stats().usedBlocks, 0);
  } finally {
    await s.close();
  }
});

both('requests wait for KV blocks rather than overcommit; all complete', async (mode) => {
  // 8 blocks of 4 = 32 rows; each request reserves 3 + 9 = 12 rows = 3 blocks → at most 2 at a time.
  const s = await setup(mode, { stepDelayMs: 1 }, {}, 8);
  try {
    const sinks = Array.from({ length: 5 }, () => s.submit({ maxNewTokens: 9 }, new RecordingSink(), 'a a'));
    await Promise.all(sinks.map((k) => k.done));
    for (const k of sinks) {
      assert.equal(k.error, null);
      assert.equal(k.tokens.length, 9);
    }
    const maxLive = Math.max(...s.shard.shard.calls.filter((c) => c.method === 'decode').map((c) => c.requestIds.length));
    assert.ok(maxLive <= 2, `at most 2 requests fit, saw ${maxLive}`);
    assert.equal(s.allocator.stats().usedBlocks, 0);
  } finally {
    await s.close();
  }
});

both('a repeated prompt reuses the computed prefix blocks (cacheLen sent to the shard)', async (mode) => {
  const s = await setup(mode);
  try {
    const prompt = 'Hello world Hello world Hello world'; // 10 tokens with BOS → 2 full blocks of 4 reusable
    await s.submit({ maxNewTokens: 2 }, new RecordingSink(), prompt).done;
    await s.submit({ maxNewTokens: 2 }, new RecordingSink(), prompt).done;
    const prefills = s.shard.shard.calls.filter((c) => c.method === 'prefill');
    assert.deepEqual(
      prefills.map((c) => c.cacheLens),
      [[0], [8]],
    );
    assert.equal(s.allocator.stats().prefillTokensSkipped, 8);
  } finally {
    await s.close();
  }
});

both('max_new_tokens 1 finishes at prefill and leaves nothing on the shard', async (mode) => {
  const s = await setup(mode);
  try {
    const k = s.submit({ maxNewTokens: 1 });
    await k.done;
    assert.deepEqual(k.tokens, [261]);
    await eventually(() => s.shard.shard.liveRequestIds().length === 0);
    assert.equal(s.shard.shard.calls.filter((c) => c.method === 'decode').length, 0);
  } finally {
    await s.close();
  }
});

both('close() ends queued and running requests with an unavailable error', async (mode) => {
  const s = await setup(mode, { stepDelayMs: 5 }, { maxBatchSize: 1 });
  const running = s.submit({ maxNewTokens: 50 });
  const queued = s.submit({ maxNewTokens: 50 });
  await new Promise((r) => setTimeout(r, 12));
  await s.close();
  await Promise.all([running.done, queued.done]);
  assert.equal(running.error?.type, 'unavailable');
  assert.equal(queued.error?.type, 'unavailable');
  assert.equal(s.allocator.stats().usedBlocks, 0);
});

both('chunked prefill: a long prompt is prefilled in budget-sized chunks interleaved with decode steps of the running batch', async (mode) => {
  const s = await setup(mode, { stepDelayMs: 1 }, { maxBatchPrefillTokens: 8, waitingServedRatio: 0 });
  try {
    const running = s.submit({ maxNewTokens: 30 });
    await new Promise((r) => setTimeout(r, 10));
    const long = s.submit({ maxNewTokens: 3 }, new RecordingSink(), 'a'.repeat(29)); // BOS ▁ + 29 × a = 31 tokens
    await Promise.all([running.done, long.done]);
    assert.equal(running.error, null);
    assert.equal(long.error, null);
    assert.equal(running.tokens.length, 30);
    assert.deepEqual(long.tokens, [261, 262, 263]); // the toy model continues from the last prompt token "a" (260)
    const calls = s.shard.shard.calls;
    const longId = calls.find((c) => c.method === 'prefill' && (c.chunkLens?.[0] ?? 0) > 0)!.requestIds[0]!;
    const chunks = calls.filter((c) => c.method === 'prefill' && c.requestIds.includes(longId));
    assert.deepEqual(
      chunks.map((c) => c.cacheLens![c.requestIds.indexOf(longId)]),
      [0, 8, 16, 24],
    );
    assert.deepEqual(
      chunks.map((c) => c.chunkLens![c.requestIds.indexOf(longId)]),
      [8, 8, 8, 0],
    );
    // Between two chunks of the long prompt, the running request got a decode step.
    const at = chunks.map((c) => calls.indexOf(c));
    for (let i = 1; i < at.length; i++) {
      assert.ok(
        calls.slice(at[i - 1]!, at[i]!).some((c) => c.method === 'decode'),
        `no decode between chunk ${i - 1} and ${i}`,
      );
    }
    assert.equal(s.allocator.stats().usedBlocks, 0);
  } finally {
    await s.close();
  }
});

both('chunked prefill: a request cancelled between chunks frees its blocks and never reaches decode', async (mode) => {
  const s = await setup(mode, { stepDelayMs: 3 }, { maxBatchPrefillTokens: 4 });
  try {
    const long = s.submit({ maxNewTokens: 3 }, new RecordingSink(), 'a'.repeat(29));
    await eventually(() => s.shard.shard.calls.filter((c) => c.method === 'prefill').length >= 2);
    long.cancelled = true;
    await eventually(() => s.batcher.stats().prefillingSize === 0 && s.allocator.stats().usedBlocks === 0);
    assert.equal(long.tokens.length, 0);
    assert.equal(s.shard.shard.calls.filter((c) => c.method === 'decode').length, 0);
    const after = s.submit({ maxNewTokens: 2 });
    await after.done;
    assert.equal(after.tokens.length, 2);
  } finally {
    await s.close();
  }
});

both(
  'suspend (the shards lost their state): running requests end with a generation error, queued and new ones unavailable, blocks freed; resume serves again',
  async (mode) => {
    const s = await setup(mode, { stepDelayMs: 10 }, { maxBatchSize: 2 });
    try {
      const running = [s.submit({ maxNewTokens: 50 }), s.submit({ maxNewTokens: 50 })];
      const queued = s.submit({ maxNewTokens: 50 });
      await eventually(() => running.every((r) => r.tokens.length > 0));
      s.batcher.suspend('shard 0 restarted');
      await Promise.all([...running, queued].map((r) => r.done));
      for (const r of running) assert.deepEqual(r.error, { message: 'generation failed: shard 0 restarted', type: 'generation' });
      assert.deepEqual(queued.error, { message: 'shard 0 restarted', type: 'unavailable' });
      const refused = s.submit({ maxNewTokens: 2 });
      await refused.done;
      assert.equal(refused.error?.type, 'unavailable');
      await eventually(() => s.allocator.stats().usedBlocks === 0 && s.batcher.runningSize === 0);
      s.batcher.resume();
      const after = s.submit({ maxNewTokens: 3 });
      await after.done;
      assert.equal(after.error, null);
      assert.equal(after.tokens.length, 3);
    } finally {
      await s.close();
    }
  },
);
