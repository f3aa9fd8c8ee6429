// @module Constrained decoding in the engine on fake logits: outputs follow the grammar, free requests beside them are unchanged, no drafts for them, other ranks follow rank 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConstraintCompiler, GrammarMatchers } from '@tessera/grammar';
import type { Generation, Request } from '@tessera/protocol';
import { batchOf, decodeStream, FakeChannel, FakeRunner, greedy, request, V } from './shard-engine.test-helper.ts';
import { ShardEngine } from './shard-engine.ts';

/** The fake model's 8 ids as text; id 0 is EOS (blank: special, never text). */
const PIECES = ['', 'a', 'b', 'c', '1', '2', '-', 'z'];
const EOS = 0;
const text = (ids: number[]) => ids.map((id) => PIECES[id]).join('');

const compiler = new ConstraintCompiler();
const grammars = GrammarMatchers.create({ pieces: PIECES, kind: 'raw' }, V);

async function constrained(id: number, prompt: number[], pattern: string, extra: Partial<Request> = {}): Promise<Request> {
  const grammar = await compiler.wire({ type: 'regex', pattern });
  return request(id, prompt, {
    parameters: { ...greedy, grammar },
    stoppingParameters: { maxNewTokens: 12, stopTokenIds: [EOS], minNewTokens: 3 },
    ...extra,
  });
}

interface Outcome {
  tokens: Map<number, number[]>;
  finish: Map<number, string>;
}

/** Prefill + continuous decode to the end on one engine. */
async function run(engine: ShardEngine, requests: Request[]): Promise<Outcome> {
  const out: Outcome = { tokens: new Map(), finish: new Map() };
  const take = (gens: Generation[]) => {
    for (const g of gens) {
      out.tokens.set(g.requestId, [...(out.tokens.get(g.requestId) ?? []), ...g.tokens.ids]);
      if (g.finishReason !== 'FINISH_REASON_UNSPECIFIED') out.finish.set(g.requestId, g.finishReason);
    }
  };
  const pre = await engine.prefill(batchOf(1, requests));
  take(pre.generations);
  if (pre.batch !== null) for (const step of await decodeStream(engine, [pre.batch])) take(step.generations);
  return out;
}

test('greedy constrained output matches its regex and ends on EOS; a free request in the same batch is unchanged', async () => {
  const free = request(2, [3, 4], { stoppingParameters: { maxNewTokens: 6, stopTokenIds: [], minNewTokens: 0 } });
  const alone = await run(new ShardEngine(new FakeRunner(), { modelId: 'f', rank: 0, worldSize: 1 }, await grammars), [free]);
  const engine = new ShardEngine(new FakeRunner(), { modelId: 'f', rank: 0, worldSize: 1 }, await grammars);
  const both = await run(engine, [await constrained(1, [5, 6], 'ab(c1|2z)-[a-c]'), free]);
  const out = both.tokens.get(1)!;
  assert.equal(out.at(-1), EOS);
  assert.match(text(out), /^ab(c1|2z)-[a-c]$/);
  assert.equal(both.finish.get(1), 'FINISH_REASON_EOS_TOKEN', 'ended by EOS once complete (min_new_tokens does not apply)');
  assert.deepEqual(both.tokens.get(2), alone.tokens.get(2));
});

test('sampled constrained outputs match across seeds', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const engine = new ShardEngine(new FakeRunner(), { modelId: 'f', rank: 0, worldSize: 1 }, await grammars);
    const req = await constrained(1, [1], '(a|b)+-[12]{2}', {
      parameters: { ...greedy, temperature: 1.5, doSample: true, seed, grammar: await compiler.wire({ type: 'regex', pattern: '(a|b)+-[12]{2}' }) },
    });
    const res = await run(engine, [req]);
    const out = res.tokens.get(1)!;
    if (res.finish.get(1) === 'FINISH_REASON_EOS_TOKEN') assert.match(text(out.slice(0, -1)), /^(a|b)+-[12]{2}$/, `seed ${seed}`);
    else assert.match(text(out), /^(a|b)+(-[12]{0,2})?$/, `seed ${seed}: a prefix of a match when cut by length`);
  }
});

test('speculation drafts for free requests only; a constrained one goes a token per step', async () => {
  const runner = new FakeRunner();
  const engine = new ShardEngine(runner, { modelId: 'f', rank: 0, worldSize: 1, speculate: 3 }, await grammars);
  // A repetitive prompt gives prompt lookup something to propose for both.
  const res = await run(engine, [
    await constrained(1, [1, 2, 1, 2, 1], 'ab(c1|2z)-[a-c]', { blocks: [10, 11, 12, 13] }),
    request(2, [1, 2, 3, 1, 2], { blocks: [20, 21, 22, 23], stoppingParameters: { maxNewTokens: 10, stopTokenIds: [], minNewTokens: 0 } }),
  ]);
  assert.match(text(res.tokens.get(1)!.slice(0, -1)), /^ab(c1|2z)-[a-c]$/);
  const decodeSteps = runner.fed.slice(1);
  assert.ok(
    decodeSteps.every((step) => step[0] === undefined || step[0].length === 1 || step.length === 1),
    'the constrained request never feeds a draft',
  );
  assert.ok(
    decodeSteps.some((step) => step.some((pending) => pending.length > 1)),
    'the free request does',
  );
});

test('tensor parallel: rank 1 has no grammar engine and applies rank 0 choices; both end the same way', async () => {
  const req = await constrained(1, [5, 6], 'ab(c1|2z)-[a-c]');
  const rank0Channel = new FakeChannel(0);
  const runner0 = new FakeRunner(rank0Channel);
  const rank0 = await run(new ShardEngine(runner0, { modelId: 'f', rank: 0, worldSize: 2 }, await grammars), [req]);
  const runner1 = new FakeRunner(
    new FakeChannel(
      1,
      rank0Channel.sent.map((w) => [...w]),
    ),
  );
  const rank1 = await run(new ShardEngine(runner1, { modelId: 'f', rank: 1, worldSize: 2 }, null), [req]);
  assert.match(text(rank0.tokens.get(1)!.slice(0, -1)), /^ab(c1|2z)-[a-c]$/);
  // Rank 1 reports only the last step of a continuous decode; what it fed the model each step is the proof.
  assert.deepEqual(runner1.fed, runner0.fed);
  assert.equal(rank1.finish.get(1), rank0.finish.get(1));
});

test('rank 0 without a grammar engine (no tokenizer, or a vocabulary it could not load) refuses constrained requests and serves free ones; one without stop ids is refused', async () => {
  const engine = new ShardEngine(new FakeRunner(), { modelId: 'f', rank: 0, worldSize: 1 }, null);
  await assert.rejects(engine.prefill(batchOf(1, [await constrained(1, [1], 'a')])), /no tokenizer/);
  const broken = new ShardEngine(new FakeRunner(), { modelId: 'f', rank: 0, worldSize: 1 }, 'the grammar engine could not load this vocabulary (x)');
  await assert.rejects(broken.prefill(batchOf(1, [await constrained(1, [1], 'a')])), /could not load this vocabulary \(x\)/);
  // …while free requests are served as ever.
  assert.equal((await broken.prefill(batchOf(3, [request(3, [1])]))).generations.length, 1);
  const noStops = await constrained(1, [1], 'a', { stoppingParameters: { maxNewTokens: 4, stopTokenIds: [], minNewTokens: 0 } });
  await assert.rejects(
    new ShardEngine(new FakeRunner(), { modelId: 'f', rank: 0, worldSize: 1 }, await grammars).prefill(batchOf(2, [noStops])),
    /needs stop_token_ids/,
  );
});
