// @module The graph's top-k selection: which steps use it, and that it chooses exactly what whole rows would (real ORT on a random model).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Request } from '@tessera/protocol';
import { randomLlamaModel } from '@tessera/testing';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import { TokenChooser, topN } from '../sampler/sampler.ts';
import { Batch } from './batch.ts';
import { topKServing } from './logit-selection.ts';
import { ModelRunner } from './model-runner.ts';
import { greedy, request } from './shard-engine.test-helper.ts';
import { ShardEngine } from './shard-engine.ts';

const V = 100;
const states = (...requests: Request[]) => Batch.fromProto({ id: 1, size: requests.length, maxTokens: 64, requests }, V, 4).requests;

test('top-k serves greedy requests (k = the largest top_n, at least 1) and nothing that needs whole rows', () => {
  assert.equal(topKServing(states(request(1, [1, 2])), false, V), 1);
  assert.equal(topKServing(states(request(1, [1, 2], { topNTokens: 3 }), request(2, [3], { topNTokens: 5 })), false, V), 5);
  const needsRows: Array<[string, Partial<Request>, boolean]> = [
    ['sampling', { parameters: { ...greedy, doSample: true, temperature: 0.7 } }, false],
    ['repetition penalty', { parameters: { ...greedy, repetitionPenalty: 1.2 } }, false],
    ['frequency penalty', { parameters: { ...greedy, frequencyPenalty: 0.5 } }, false],
    ['logit bias', { parameters: { ...greedy, logitBias: { '4': -2 } } }, false],
    [
      'a grammar',
      { parameters: { ...greedy, grammar: '{"type":"json"}' }, stoppingParameters: { maxNewTokens: 4, stopTokenIds: [2], minNewTokens: 0 } },
      false,
    ],
    ['stop ids forbidden by min_new_tokens', { stoppingParameters: { maxNewTokens: 8, stopTokenIds: [2], minNewTokens: 3 } }, false],
    ['prompt logprobs at prefill', { prefillLogprobs: true }, true],
    ['more top-n than the vocabulary', { topNTokens: V + 1 }, false],
  ];
  for (const [why, extra, prefill] of needsRows) {
    assert.equal(topKServing(states(request(1, [1, 2]), request(2, [3, 4], extra)), prefill, V), null, why);
  }
  // Prompt logprobs are scored at prefill only; the decode steps after it take the top-k.
  assert.equal(topKServing(states(request(1, [1, 2], { prefillLogprobs: true })), false, V), 1);
  // A repetition penalty of 1 changes nothing, and min_new_tokens without stop ids forbids nothing.
  assert.equal(topKServing(states(request(1, [1], { parameters: { ...greedy, repetitionPenalty: 1 } })), false, V), 1);
  assert.equal(topKServing(states(request(1, [1], { stoppingParameters: { maxNewTokens: 8, stopTokenIds: [], minNewTokens: 3 } })), false, V), 1);
});

test('chooseFromTop gives choose()’s token, logprob and top-n, ties going to the lower id', () => {
  const row = Float32Array.from([0.5, 2, -1, 2, 1.5, 2, 0]);
  const lse = Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
  const chooser = new TokenChooser(greedy, []);
  const sorted = [...row.keys()].sort((a, b) => row[b]! - row[a]! || a - b).slice(0, 4);
  const top = { k: 4, logits: Float32Array.from(sorted.map((i) => row[i]!)), ids: BigInt64Array.from(sorted.map(BigInt)) };
  const fromTop = chooser.chooseFromTop(top, 4, lse);
  assert.deepEqual(fromTop, chooser.choose(row, 4, [], lse));
  assert.equal(fromTop.id, 1);
  assert.deepEqual(fromTop.top.ids, [1, 3, 5, 4]);
  assert.deepEqual(chooser.chooseFromTop(top, 0, lse), chooser.choose(row, 0, [], lse));
  assert.throws(() => chooser.chooseFromTop(top, 5, lse), /top-5 asked of a top-4 selection/);
  assert.throws(() => new TokenChooser({ ...greedy, frequencyPenalty: 1 }, []).chooseFromTop(top, 1, lse), /needs whole rows/);
});

const model = randomLlamaModel({ numLayers: 2 }, 29);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-topk-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

test('the graph’s top-k rows equal the top-n of its whole rows, and only they come back', async () => {
  const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1 });
  const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: 4, threads: 1 });
  after(() => runner.release());
  await runner.warmup(16, 8);
  // A prefill of two sequences, every row of the first returned (the shape of a draft's verification).
  const seqs = [
    { ids: [5, 9, 2, 11, 7], start: 0, blocks: [0, 1], allLogits: true },
    { ids: [3, 8, 1], start: 0, blocks: [2], allLogits: false },
  ];
  const whole = await runner.step(seqs);
  const selected = await runner.step(seqs, 6);
  assert.equal(selected.logits, null, 'the [rows, vocab] logits stay in the session');
  assert.ok(selected.top !== null && whole.top === null);
  const V = model.config.vocabSize;
  const rows = whole.logits.length / V;
  assert.equal(rows, 6);
  assert.equal(selected.top.ids.length, rows * 6);
  for (let r = 0; r < rows; r++) {
    const expected = topN(whole.logits.subarray(r * V, (r + 1) * V), 6);
    assert.deepEqual([...selected.top.ids.subarray(r * 6, (r + 1) * 6)].map(Number), expected.ids, `row ${r}`);
    assert.deepEqual([...selected.top.logits.subarray(r * 6, (r + 1) * 6)], expected.logprobs, `row ${r}`);
  }
  assert.deepEqual([...selected.logitsLse!], [...whole.logitsLse!]);
});

test('greedy generations through the top-k equal those through whole rows: tokens, logprobs and top-n', async () => {
  const { onnxPath } = ensureStepGraph(model, { cacheDir, rank: 0, worldSize: 1 });
  const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: 4, threads: 1 });
  after(() => runner.release());
  const engine = new ShardEngine(runner, { modelId: 'random', rank: 0, worldSize: 1, kvCacheMemory: 1 << 20, speculate: 2 });
  await engine.warmup({ maxBatchPrefillTokens: 64, maxTotalTokens: 256, maxBatchSize: 4 });
  // A zero logit bias changes no score but makes the request need whole rows (logit-selection.ts).
  const wholeRows = { ...greedy, logitBias: { '0': 0 } };
  async function generate(parameters: Request['parameters'], id: number) {
    const req = request(id, [4, 6, 4, 6, 4, 6, 4], { topNTokens: 3, parameters, blocks: Array.from({ length: 8 }, (_, j) => id * 8 + j) });
    const pre = await engine.prefill({ batch: { id, size: 1, maxTokens: 32, requests: [req] } });
    const out = [pre.generations[0]!];
    let batch = pre.batch;
    while (batch !== null) {
      const d = await engine.decode({ batches: [batch] });
      out.push(d.generations[0]!);
      batch = d.batch;
    }
    return out.map((g) => ({ tokens: g.tokens, top: g.topTokens, finish: g.finishReason }));
  }
  const viaTop = await generate(greedy, 1);
  const viaRows = await generate(wholeRows, 2);
  assert.deepEqual(viaTop, viaRows);
  assert.equal(viaTop.flatMap((g) => g.tokens.ids).length, 16);
});
