// @module Tests: sliding-window early release end to end — blocks behind every window go back during decode, a queued request gets in sooner, outputs unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Generation } from '@tessera/protocol';
import { TextTokenizer } from '@tessera/tokenization';
import { syntheticSentencePieceFiles } from '@tessera/testing';
import { ShardedClient } from '../shard-client/sharded-client.ts';
import { startScriptedShard } from '../testing/scripted-shard.ts';
import { Validator } from '../validation/validate.ts';
import { Batcher, type GenerationSink } from './batcher.ts';
import { BlockAllocator } from './block-allocator.ts';

const tokenizer = TextTokenizer.fromFiles(syntheticSentencePieceFiles());
const validator = new Validator({ tokenizer, chatTemplate: null, limits: { maxInputTokens: 60, maxTotalTokens: 64 }, eosTokenIds: [2] });
const WINDOW = 8;
const BLOCK_SIZE = 4;
const NUM_BLOCKS = 8;

/** The toy model: a position-weighted hash of the window it sees (never EOS), so any wrong row changes it. */
const next = (window: readonly number[]) => (window.reduce((h, t, i) => h + t * (i + 1), 0) % 300) + 3;

/** What a request must produce: the same model over the true context, each step seeing the last WINDOW tokens. */
function expected(promptIds: readonly number[], n: number): number[] {
  const context = [...promptIds];
  for (let i = 0; i < n; i++) context.push(next(context.slice(-WINDOW)));
  return context.slice(promptIds.length);
}

class Sink implements GenerationSink {
  cancelled = false;
  tokens: number[] = [];
  error: string | null = null;
  finished = false;
  #done: () => void = () => {};
  readonly done = new Promise<void>((r) => (this.#done = r));
  constructor(private readonly onScheduledHook: () => void = () => {}) {}
  onScheduled(): void {
    this.onScheduledHook();
  }
  onGeneration(g: Generation): boolean {
    this.tokens.push(...g.tokens.ids);
    this.finished = g.finishReason !== 'FINISH_REASON_UNSPECIFIED';
    if (this.finished) this.#done();
    return this.finished;
  }
  onError(message: string): void {
    this.error ??= message;
    this.#done();
  }
}

async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * A (10 prompt + 18 new = 7 of the 8 blocks) runs; B (3 + 6 = 3 blocks) arrives once A has 8 tokens.
 * Returns how many tokens A had when B was scheduled, and checks both outputs and the block accounting.
 */
async function run(continuous: boolean, routerWindow: number): Promise<number> {
  const shard = await startScriptedShard({ vocabSize: 305, blockSize: BLOCK_SIZE, numBlocks: NUM_BLOCKS, slidingWindow: WINDOW, stepDelayMs: 2, next });
  const client = new ShardedClient([shard.uri]);
  await client.connect(5000);
  const allocator = new BlockAllocator({ numBlocks: NUM_BLOCKS, blockSize: BLOCK_SIZE });
  const batcher = new Batcher({
    shards: client,
    allocator,
    continuousDecode: continuous,
    slidingWindow: routerWindow,
    limits: { maxBatchPrefillTokens: 256, maxBatchTotalTokens: NUM_BLOCKS * BLOCK_SIZE, maxBatchSize: null, waitingServedRatio: 0.3, maxWaitingTokens: 20 },
  });
  const request = (prompt: string, maxNewTokens: number) =>
    validator.validate({ dialect: 'tgi', input: { kind: 'text', value: prompt, field: 'inputs' }, params: { maxNewTokens }, fields: {} });
  try {
    const longPrompt = request('Hello world Hello world Hello world', 18);
    assert.equal(longPrompt.inputIds.length, 10);
    const a = new Sink();
    batcher.submit(longPrompt, a);
    await eventually(() => a.tokens.length >= 8);
    let aTokensWhenBScheduled = -1;
    const b = new Sink(() => (aTokensWhenBScheduled = a.tokens.length));
    const short = request('Hello a', 6);
    batcher.submit(short, b);
    await Promise.all([a.done, b.done]);
    assert.equal(a.error, null);
    assert.equal(b.error, null);
    assert.deepEqual(a.tokens, expected(longPrompt.inputIds, 18));
    assert.deepEqual(b.tokens, expected(short.inputIds, 6));
    // The same prompt again: a prefix hit (if its early-released blocks are still cached) must be intact.
    const c = new Sink();
    batcher.submit(request('Hello world Hello world Hello world', 5), c);
    await c.done;
    assert.equal(c.error, null);
    assert.deepEqual(c.tokens, expected(longPrompt.inputIds, 5));
    await eventually(() => allocator.stats().usedBlocks === 0);
    assert.equal(allocator.stats().freeBlocks + allocator.stats().cachedBlocks, NUM_BLOCKS, 'every block returned exactly once');
    return aTokensWhenBScheduled;
  } finally {
    await batcher.close();
    client.close();
    await shard.close();
  }
}

for (const continuous of [true, false]) {
  const mode = continuous ? 'continuous decode' : 'one Decode per step';
  test(`sliding window: a queued request gets the blocks behind the window while the long one runs; outputs unchanged (${mode})`, async () => {
    const aTokens = await run(continuous, WINDOW);
    assert.ok(aTokens >= 8 && aTokens < 18, `B was scheduled while A ran (A had ${aTokens} of 18 tokens)`);
  });

  test(`without the window the queued request waits for the long one to finish (${mode})`, async () => {
    assert.equal(await run(continuous, 0), 18);
  });
}
