// @module Speculative decoding in the engine on fake logits: greedy output unchanged, drafts bounded by blocks / max_new_tokens / stops, tensor-parallel broadcast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FinishReason, Generation, Request } from '@tessera/protocol';
import { batchOf, decodeStream, engineOn, FakeChannel, type FakeModel, FakeRunner, nextTokenModel, request, V } from './shard-engine.test-helper.ts';

/** A model whose favourite also depends on the position, so prompt-lookup drafts are often but not always right. */
const positional: FakeModel = (context) => {
  const skip = context.length % 5 === 0 ? 3 : 0;
  return Float32Array.from({ length: V }, (_, j) => (j === (context.at(-1)! + 1 + skip) % V ? 4 : j * 0.1));
};

const blocks = (id: number, n: number) => Array.from({ length: n }, (_, k) => id * 16 + k);

interface Run {
  tokens: Map<number, number[]>;
  finish: Map<number, FinishReason>;
  generations: Generation[];
  steps: number;
  proposed: number;
  accepted: number;
  runner: FakeRunner;
}

/** Prefill then decode every request to its end, by Decode calls or one continuous decode. */
async function generate(speculate: number, requests: () => Request[], mode: 'calls' | 'stream' = 'calls', model: FakeModel = positional): Promise<Run> {
  const runner = new FakeRunner(null, model);
  const engine = engineOn(runner, 0, { speculate });
  const run: Run = { tokens: new Map(), finish: new Map(), generations: [], steps: 0, proposed: 0, accepted: 0, runner };
  const take = (gens: Generation[]) => {
    for (const g of gens) {
      run.generations.push(g);
      run.tokens.set(g.requestId, [...(run.tokens.get(g.requestId) ?? []), ...g.tokens.ids]);
      if (g.finishReason !== 'FINISH_REASON_UNSPECIFIED') run.finish.set(g.requestId, g.finishReason);
    }
  };
  const pre = await engine.prefill(batchOf(1, requests()));
  take(pre.generations);
  let batch = pre.batch;
  if (mode === 'stream' && batch !== null) {
    for (const step of await decodeStream(engine, [batch])) {
      take(step.generations);
      run.steps++;
      run.proposed += step.timings.draftTokens;
      run.accepted += step.timings.acceptedDraftTokens;
    }
    return run;
  }
  while (batch !== null) {
    const d = await engine.decode({ batches: [batch] });
    take(d.generations);
    run.steps++;
    run.proposed += d.timings.draftTokens;
    run.accepted += d.timings.acceptedDraftTokens;
    batch = d.batch;
  }
  return run;
}

const stopping = (maxNewTokens: number, stopTokenIds: number[] = [], minNewTokens = 0) => ({ maxNewTokens, stopTokenIds, minNewTokens });
const cyclic = [1, 2, 3, 4, 5, 6, 7, 0, 1];

test('greedy: the same tokens and finish reasons with and without speculation, in fewer steps, by Decode calls and continuously', async () => {
  const requests = () => [
    request(1, cyclic, { blocks: blocks(1, 8), stoppingParameters: stopping(20) }),
    request(2, [5, 5, 5, 5], { blocks: blocks(2, 8), stoppingParameters: stopping(17) }),
    request(3, [0, 3, 6], { blocks: blocks(3, 8), stoppingParameters: stopping(12) }),
    // Frequency penalties change the argmax as tokens repeat: each accepted token must count before the next row is read.
    request(4, cyclic, { blocks: blocks(4, 8), stoppingParameters: stopping(20), parameters: { ...request(0, [0]).parameters, frequencyPenalty: 1.5 } }),
  ];
  const plain = await generate(0, requests);
  assert.equal(plain.proposed, 0);
  for (const mode of ['calls', 'stream'] as const) {
    const spec = await generate(4, requests, mode);
    assert.deepEqual(spec.tokens, plain.tokens, mode);
    assert.deepEqual(spec.finish, plain.finish, mode);
    assert.ok(spec.accepted > 0 && spec.accepted < spec.proposed, `${mode}: some drafts accepted, some rejected (${spec.accepted}/${spec.proposed})`);
    assert.ok(spec.steps < plain.steps, `${mode}: ${spec.steps} steps < ${plain.steps}`);
    assert.ok(
      spec.runner.fed.some((step) => step.some((pending) => pending.length > 1)),
      'drafts were fed',
    );
  }
});

test('greedy logprobs and top-n come per accepted token, equal to those without speculation', async () => {
  const requests = () => [request(1, cyclic, { blocks: blocks(1, 8), stoppingParameters: stopping(12), topNTokens: 2 })];
  const [plain, spec] = [await generate(0, requests), await generate(4, requests)];
  const flat = (r: Run) => r.generations.flatMap((g) => g.tokens.logprobs.map((l, i) => [l, g.topTokens[i]]));
  assert.equal(flat(spec).length, 12);
  assert.deepEqual(flat(spec), flat(plain));
  assert.ok(spec.generations.some((g) => g.tokens.ids.length > 1));
});

test('a draft never reaches past the reserved blocks; the request ends at the same length as without speculation', async () => {
  // 9 prompt tokens in 3 blocks of 4: room for 3 more positions. (The runner throws on a write past the blocks.)
  const requests = () => [request(1, cyclic, { blocks: blocks(1, 3), stoppingParameters: stopping(16) })];
  const [plain, spec] = [await generate(0, requests, 'calls', nextTokenModel), await generate(4, requests, 'calls', nextTokenModel)];
  assert.deepEqual(spec.tokens, plain.tokens);
  assert.deepEqual(spec.finish.get(1), 'FINISH_REASON_LENGTH');
  assert.deepEqual(spec.runner.fed[1], [[2, 3, 4]], 'the last token and 2 draft tokens fill the third block');
});

test('a draft never yields more than max_new_tokens', async () => {
  const requests = () => [request(1, cyclic, { blocks: blocks(1, 8), stoppingParameters: stopping(3) })];
  const spec = await generate(4, requests, 'calls', nextTokenModel);
  assert.deepEqual(spec.runner.fed[1], [[2, 3]], 'one token generated at prefill, so one draft token and the bonus one');
  assert.deepEqual([spec.tokens.get(1), spec.finish.get(1), spec.steps], [[2, 3, 4], 'FINISH_REASON_LENGTH', 1]);
});

test('a stop id inside an accepted run ends it there; before min_new_tokens it is forbidden and the draft rejected', async () => {
  const requests = () => [
    request(1, cyclic, { blocks: blocks(1, 8), stoppingParameters: stopping(16, [4]) }),
    // Greedy would stop at 4 (3rd token): min_new_tokens 4 forbids it, so row 4 → the next best id.
    request(2, cyclic, { blocks: blocks(2, 8), stoppingParameters: stopping(16, [4], 4) }),
  ];
  const [plain, spec] = [await generate(0, requests, 'calls', nextTokenModel), await generate(4, requests, 'calls', nextTokenModel)];
  assert.deepEqual(spec.tokens, plain.tokens);
  assert.deepEqual(spec.finish, plain.finish);
  assert.deepEqual(spec.runner.fed[1]![0], [2, 3, 4, 5, 6], 'the draft went past the stop id');
  assert.deepEqual([spec.tokens.get(1), spec.finish.get(1)], [[2, 3, 4], 'FINISH_REASON_EOS_TOKEN']);
  assert.deepEqual(spec.generations[2]!.tokens.ids, [3, 4], 'request 1 took the draft up to its stop id');
  assert.deepEqual(spec.generations[3]!.tokens.ids, [3, 7], "request 2: 3 accepted, then 4 forbidden and replaced by row 4's next best");
});

test('tensor parallel: rank 0 sends a count and the ids per request (then the control); rank 1 drafts the same and takes them', async () => {
  const reqs = () => [
    request(1, cyclic, { blocks: blocks(1, 8), stoppingParameters: stopping(8) }),
    request(2, [0, 3, 6], { blocks: blocks(2, 8), stoppingParameters: stopping(8) }),
  ];
  const channel0 = new FakeChannel(0);
  const runner0 = new FakeRunner(channel0, positional);
  const rank0 = engineOn(runner0, 0, { speculate: 4 });
  const pre0 = await rank0.prefill(batchOf(1, reqs()));
  const steps0 = await decodeStream(rank0, [pre0.batch!]);
  // Prefill: one id each. Step 1: request 1's draft 3 4 5 6 (after its bigram "1 2" in the prompt)
  // is rejected at once (the model skips at position 10), request 2 has none; then the control [stop = 0].
  // Step 2: request 1's draft 7 0 1 2 is accepted whole, plus the model's own 6.
  assert.deepEqual(channel0.sent.slice(0, 3), [
    [1, 2, 1, 7],
    [1, 6, 1, 0, 0],
    [5, 7, 0, 1, 2, 6, 1, 4, 0],
  ]);
  const channel1 = new FakeChannel(
    1,
    channel0.sent.map((s) => [...s]),
  );
  const runner1 = new FakeRunner(channel1, () => new Float32Array(V)); // rank 1's logits would choose 0 every time
  const rank1 = engineOn(runner1, 1, { speculate: 4 });
  await rank1.prefill(batchOf(1, reqs()));
  const steps1 = await decodeStream(rank1, [pre0.batch!]);
  assert.deepEqual(runner1.fed, runner0.fed, 'both ranks fed the same tokens and drafts every step');
  const outcome = (g: Generation) => [g.requestId, g.tokens.ids, g.finishReason, g.generatedTokens];
  assert.deepEqual(steps1.at(-1)!.generations.map(outcome), steps0.at(-1)!.generations.map(outcome));
  assert.equal(steps0.at(-1)!.batch, null);
});
