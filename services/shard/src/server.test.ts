// @module The real shard over gRPC (runner thread, ONNX, sampler) against the fp64 reference's greedy choices.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { CHANNEL_OPTIONS, grpc, TextGenerationService, type Request } from '@tessera/protocol';
import { ReferenceCache, ReferenceLlama } from '@tessera/testing';
import { randomLlamaModel } from '@tessera/testing';
import { parseShardArgs } from './config.ts';
import { startShard, type RunningShard } from './main.ts';
import { argmax, logSoftmax } from './sampler/sampler.ts';

const model = randomLlamaModel({ numLayers: 2, attentionBias: true }, 3);
const reference = new ReferenceLlama(model);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-srv-'));
const logLines: Record<string, unknown>[] = [];
let shard: RunningShard;
let client: grpc.Client;

type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res: any) => void) => void;
function rpc(method: string, req: unknown = {}): Promise<any> {
  const fn = (client as unknown as Record<string, Unary>)[method]!.bind(client);
  return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res))));
}

/** The reference's greedy continuation and the logprobs of the prompt tokens. */
function referenceGreedy(prompt: number[], steps: number) {
  const cache = new ReferenceCache(model.config.numLayers);
  const promptLogits = reference.forward(prompt, cache);
  const ids = [argmax(promptLogits.at(-1)!)];
  const firstLogprobs = logSoftmax(promptLogits.at(-1)!);
  while (ids.length < steps) ids.push(argmax(reference.forward([ids.at(-1)!], cache)[0]!));
  const promptLogprobs = prompt.map((t, k) => (k === 0 ? NaN : logSoftmax(promptLogits[k - 1]!)[t]!));
  return { ids, firstLogprobs, promptLogprobs };
}

const greedy = {
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
};
const request = (id: number, inputIds: number[], blocks: number[], extra: Partial<Request> = {}): Request => ({
  id,
  inputIds,
  blocks,
  cacheLen: 0,
  prefillLogprobs: false,
  topNTokens: 0,
  parameters: greedy,
  stoppingParameters: { maxNewTokens: 10, stopTokenIds: [], minNewTokens: 0 },
  ...extra,
});

before(async () => {
  const config = parseShardArgs([
    '--model-id',
    'random',
    '--port',
    '0',
    '--cache-dir',
    cacheDir,
    '--threads',
    '1',
    '--block-size',
    '4',
    '--kv-cache-memory',
    '256KiB',
  ])!;
  const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
  shard = await startShard(config, { model, logger });
  client = new TextGenerationService(`127.0.0.1:${shard.port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
});
after(async () => {
  client?.close();
  await shard?.close();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

test('binds port 0 and logs "shard ready" with the real port', () => {
  assert.ok(shard.port > 0);
  assert.ok(logLines.some((l) => l.msg === 'shard ready' && l.port === shard.port));
});

test('Info, Health, Warmup', async () => {
  const info = await rpc('Info');
  assert.equal(info.vocabSize, 200);
  assert.equal(info.blockSize, 4);
  assert.equal(info.numKvHeads, 2);
  assert.equal(info.headDim, 16);
  await rpc('Health');
  const w = await rpc('Warmup', { maxBatchPrefillTokens: 64, maxTotalTokens: 40, maxBatchSize: 4 });
  const perBlock = 2 * 2 * 4 * 2 * 16 * 4;
  assert.equal(w.numBlocks, Math.floor((256 * 1024) / perBlock));
  assert.equal(w.maxSupportedTotalTokens, w.numBlocks * 4);
  assert.equal(w.kvCacheBytes, w.numBlocks * perBlock);
});

test('Prefill 2, Decode, FilterBatch, Decode, ClearCache: greedy ids equal the reference argmax', async () => {
  const promptA = [5, 17, 33, 4, 9, 100, 3];
  const promptB = [42, 8, 199];
  const refA = referenceGreedy(promptA, 6);
  const refB = referenceGreedy(promptB, 3);
  const pre = await rpc('Prefill', {
    batch: {
      id: 10,
      size: 2,
      maxTokens: 40,
      requests: [request(1, promptA, [3, 9, 4, 11], { topNTokens: 3, prefillLogprobs: true }), request(2, promptB, [0, 5, 7])],
    },
  });
  assert.equal(pre.generations.length, 2);
  const [ga, gb] = pre.generations;
  assert.deepEqual([ga.tokens.ids[0], gb.tokens.ids[0]], [refA.ids[0], refB.ids[0]]);
  assert.ok(Math.abs(ga.tokens.logprobs[0] - refA.firstLogprobs[refA.ids[0]!]!) < 1e-4);
  assert.equal(ga.topTokens[0].ids.length, 3);
  assert.equal(ga.topTokens[0].ids[0], refA.ids[0]);
  assert.equal(gb.topTokens.length, 0);
  assert.deepEqual(ga.prefillTokens.ids, promptA);
  assert.ok(Number.isNaN(ga.prefillTokens.logprobs[0]));
  ga.prefillTokens.logprobs.slice(1).forEach((lp: number, k: number) => assert.ok(Math.abs(lp - refA.promptLogprobs[k + 1]!) < 1e-4));
  assert.equal(gb.prefillTokens, null);
  assert.ok(ga.seed > 0);
  assert.deepEqual(pre.batch, { id: 10, requestIds: [1, 2], size: 2, maxTokens: 28 });
  assert.equal(pre.timings.computedTokens, 10);

  const got: Record<number, number[]> = { 1: [ga.tokens.ids[0]], 2: [gb.tokens.ids[0]] };
  let batch = pre.batch;
  for (let step = 0; step < 2; step++) {
    const d = await rpc('Decode', { batches: [batch] });
    assert.equal(d.generations.length, 2);
    for (const g of d.generations) got[g.requestId]!.push(g.tokens.ids[0]);
    batch = d.batch;
  }
  assert.deepEqual(got[2], refB.ids);

  const filtered = await rpc('FilterBatch', { batchId: 10, requestIds: [1] });
  assert.deepEqual(filtered.batch.requestIds, [1]);
  const d = await rpc('Decode', { batches: [filtered.batch] });
  assert.deepEqual(
    d.generations.map((g: { requestId: number }) => g.requestId),
    [1],
  );
  got[1]!.push(d.generations[0].tokens.ids[0]);
  assert.deepEqual(got[1], refA.ids.slice(0, 4));
  assert.equal(d.generations[0].generatedTokens, 4);

  await rpc('ClearCache', { id: 10 });
  await assert.rejects(
    rpc('Decode', { batches: [d.batch] }),
    (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT && /not found/.test(err.details),
  );
});

test('finish reasons: LENGTH at max_new_tokens, EOS_TOKEN on a stop id; finished requests leave the batch', async () => {
  const prompt = [7, 7, 8, 150, 2];
  const ref = referenceGreedy(prompt, 3);
  const pre = await rpc('Prefill', {
    batch: {
      id: 20,
      size: 2,
      maxTokens: 32,
      requests: [
        request(5, prompt, [20, 21], { stoppingParameters: { maxNewTokens: 2, stopTokenIds: [], minNewTokens: 0 } }),
        request(6, prompt, [22, 23], { stoppingParameters: { maxNewTokens: 8, stopTokenIds: [ref.ids[0]!], minNewTokens: 0 } }),
      ],
    },
  });
  assert.deepEqual(
    pre.generations.map((g: { finishReason: string }) => g.finishReason),
    ['FINISH_REASON_UNSPECIFIED', 'FINISH_REASON_EOS_TOKEN'],
  );
  assert.deepEqual(pre.batch.requestIds, [5]);
  const d = await rpc('Decode', { batches: [pre.batch] });
  assert.equal(d.generations[0].finishReason, 'FINISH_REASON_LENGTH');
  assert.equal(d.generations[0].tokens.ids[0], ref.ids[1]);
  assert.equal(d.batch, null);
});

test('bad requests are INVALID_ARGUMENT', async () => {
  const err = await rpc('Prefill', { batch: { id: 30, size: 1, maxTokens: 4, requests: [request(9, [1, 2, 3, 4, 5], [1])] } }).catch((e) => e);
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /cannot hold/);
});
