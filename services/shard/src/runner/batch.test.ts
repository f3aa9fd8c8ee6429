// @module Batch verbs: fromProto validation, filter, concatenate, toCachedBatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Request } from '@tessera/protocol';
import { Batch } from './batch.ts';
import { BatchCache } from './batch-cache.ts';

const request = (id: number, inputIds: number[], blocks: number[], cacheLen = 0): Request => ({
  id,
  inputIds,
  blocks,
  cacheLen,
  prefillLogprobs: false,
  topNTokens: 0,
  parameters: {
    temperature: 0,
    topK: 0,
    topP: 0,
    typicalP: 0,
    doSample: false,
    seed: 0,
    repetitionPenalty: 0,
    frequencyPenalty: 0,
    presencePenalty: 0,
    minP: 0,
    logitBias: {},
  },
  stoppingParameters: { maxNewTokens: 4, stopTokenIds: [], minNewTokens: 0 },
});

test('fromProto builds request state; cache_len never covers the last prompt token', () => {
  const b = Batch.fromProto({ id: 3, size: 2, maxTokens: 0, requests: [request(1, [5, 6, 7], [0]), request(2, [8, 9], [1], 2)] }, 100, 4);
  assert.deepEqual(
    b.requests.map((r) => r.pending),
    [[5, 6, 7], [9]],
  );
  assert.deepEqual(b.toCachedBatch(), { id: 3, requestIds: [1, 2], size: 2, maxTokens: 8 });
});

test('fromProto rejects empty prompts, unknown ids, duplicate ids and too few blocks', () => {
  const mk =
    (...requests: Request[]) =>
    () =>
      Batch.fromProto({ id: 1, size: requests.length, maxTokens: 0, requests }, 10, 4);
  assert.throws(mk(request(1, [], [0])), /empty/);
  assert.throws(mk(request(1, [10], [0])), /outside the vocabulary/);
  assert.throws(mk(request(1, [1], [0]), request(1, [2], [1])), /twice/);
  assert.throws(mk(request(1, [1, 2, 3, 4, 5], [0])), /cannot hold/);
  assert.throws(mk(), /no requests/);
});

test('filter, concatenate and the cache', () => {
  const a = Batch.fromProto({ id: 1, size: 2, maxTokens: 0, requests: [request(1, [1], [0]), request(2, [2], [1])] }, 10, 4);
  const b = Batch.fromProto({ id: 2, size: 1, maxTokens: 0, requests: [request(3, [3], [2])] }, 10, 4);
  const both = Batch.concatenate([a, b]);
  assert.deepEqual(both.toCachedBatch().requestIds, [1, 2, 3]);
  assert.equal(both.id, 1);
  assert.deepEqual(both.filter([3, 99])?.toCachedBatch().requestIds, [3]);
  assert.equal(both.filter([]), null);
  const cache = new BatchCache();
  cache.set(a);
  assert.equal(cache.take(1), a);
  assert.throws(() => cache.take(1), /not found/);
});
