// @module Token chooser: raw logprobs, greedy ties, seeded sampling, penalties and forbidden ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NextTokenChooserParameters } from '@tessera/protocol';
import { argmax, logSoftmax, TokenChooser, topN } from './sampler.ts';

const GREEDY: NextTokenChooserParameters = {
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
const logits = (...v: number[]) => Float32Array.from(v);

test('logSoftmax matches the closed form', () => {
  const lp = logSoftmax([0, Math.log(3)]);
  assert.ok(Math.abs(lp[0]! - Math.log(0.25)) < 1e-12);
  assert.ok(Math.abs(lp[1]! - Math.log(0.75)) < 1e-12);
});

test('topN is descending with ties to the lowest id; argmax ties go low', () => {
  assert.deepEqual(topN([1, 3, 3, 2, 5], 3).ids, [4, 1, 2]);
  assert.deepEqual(topN([1, 3], 5).ids, [1, 0]);
  assert.deepEqual(topN([1, 3], 0).ids, []);
  assert.equal(argmax([2, 7, 7, 1]), 1);
});

test('greedy picks the argmax and reports the raw logprob and top tokens', () => {
  const c = new TokenChooser(GREEDY, []);
  assert.equal(c.greedy, true);
  const choice = c.choose(logits(0, 2, 1, 2), 2);
  assert.equal(choice.id, 1);
  const lse = Math.log(1 + 2 * Math.exp(2) + Math.exp(1));
  assert.ok(Math.abs(choice.logprob - (2 - lse)) < 1e-6);
  assert.deepEqual(choice.top.ids, [1, 3]);
});

test('a seed is always reported: the given one (0 included when sampling), or a fresh one for greedy', () => {
  assert.equal(new TokenChooser({ ...GREEDY, seed: 1234 }, []).seed, 1234);
  assert.equal(new TokenChooser({ ...GREEDY, doSample: true, seed: 0 }, []).seed, 0);
  const a = new TokenChooser(GREEDY, []).seed;
  const b = new TokenChooser(GREEDY, []).seed;
  assert.ok(a > 0 && b > 0 && a !== b);
});

test('seed 0 is a real seed: two choosers with seed 0 draw the same tokens', () => {
  const row = logits(0, 0, 0, 0, 0, 0, 0, 0);
  const draw = () => {
    const c = new TokenChooser({ ...GREEDY, doSample: true, seed: 0 }, []);
    return Array.from({ length: 50 }, () => c.choose(row, 0).id);
  };
  assert.deepEqual(draw(), draw());
});

test('the PRNG is per request: interleaving another request does not change a seeded stream', () => {
  const row = logits(0, 0.5, 1, 1.5);
  const alone = new TokenChooser({ ...GREEDY, doSample: true, seed: 9 }, []);
  const expected = Array.from({ length: 100 }, () => alone.choose(row, 0).id);
  const mine = new TokenChooser({ ...GREEDY, doSample: true, seed: 9 }, []);
  const other = new TokenChooser({ ...GREEDY, doSample: true, seed: 10 }, []);
  const got = Array.from({ length: 100 }, () => {
    other.choose(row, 0);
    return mine.choose(row, 0).id;
  });
  assert.deepEqual(got, expected);
});

test('sampling with a seed is reproducible and follows the distribution', () => {
  const p: NextTokenChooserParameters = { ...GREEDY, doSample: true, seed: 42 };
  const row = logits(Math.log(0.1), Math.log(0.6), Math.log(0.3));
  const draw = (seed: number) => {
    const c = new TokenChooser({ ...p, seed }, []);
    return Array.from({ length: 3000 }, () => c.choose(row, 0).id);
  };
  const a = draw(42);
  assert.deepEqual(a, draw(42));
  assert.notDeepEqual(a, draw(43));
  const freq = [0, 1, 2].map((id) => a.filter((x) => x === id).length / a.length);
  assert.ok(Math.abs(freq[0]! - 0.1) < 0.03 && Math.abs(freq[1]! - 0.6) < 0.03 && Math.abs(freq[2]! - 0.3) < 0.03, `freq ${freq}`);
});

test('temperature > 0 samples even without do_sample; top_k 1 makes it deterministic', () => {
  const c = new TokenChooser({ ...GREEDY, temperature: 0.7, topK: 1, seed: 5 }, []);
  assert.equal(c.greedy, false);
  for (let i = 0; i < 20; i++) assert.equal(c.choose(logits(0, 1, 3, 2), 0).id, 2);
});

test('repetition penalty steers greedy away from seen tokens; returned logprob stays raw', () => {
  const c = new TokenChooser({ ...GREEDY, repetitionPenalty: 4 }, [1]);
  const choice = c.choose(logits(1.5, 2, 0), 0);
  assert.equal(choice.id, 0); // 2 / 4 = 0.5 < 1.5
  assert.ok(Math.abs(choice.logprob - logSoftmax([1.5, 2, 0])[0]!) < 1e-9);
});

test('frequency penalty counts generated tokens only (accept)', () => {
  const c = new TokenChooser({ ...GREEDY, frequencyPenalty: 1 }, [1]);
  assert.equal(c.choose(logits(1, 1.5), 0).id, 1); // prompt tokens are not penalised
  c.accept(1);
  assert.equal(c.choose(logits(1, 1.5), 0).id, 0); // 1.5 − 1 < 1
});

test('logit bias and forbidden ids apply to greedy choice', () => {
  const c = new TokenChooser({ ...GREEDY, logitBias: { 0: 10 } }, []);
  assert.equal(c.choose(logits(0, 5, 1), 0).id, 0);
  assert.equal(c.choose(logits(0, 5, 1), 0, [0, 1]).id, 2);
});

test('a grammar mask limits the choice, greedy and sampled; a logit_bias that bans every allowed id cannot make it choose a refused one', () => {
  const row = logits(5, 1, 4, 3, 2);
  // xgrammar's layout: bit i of word i>>5; ids 2 and 4 allowed.
  const mask = Int32Array.of((1 << 2) | (1 << 4));
  assert.equal(new TokenChooser(GREEDY, []).choose(row, 0, [], undefined, mask).id, 2);
  const sampled = new TokenChooser({ ...GREEDY, temperature: 1.5, doSample: true, seed: 7 }, []);
  for (let i = 0; i < 50; i++) assert.ok([2, 4].includes(sampled.choose(row, 0, [], undefined, mask).id));
  const banned = { ...GREEDY, logitBias: { 2: -Infinity, 4: -Infinity } };
  assert.ok([2, 4].includes(new TokenChooser(banned, []).choose(row, 0, [], undefined, mask).id));
  const bannedSampled = new TokenChooser({ ...banned, temperature: 1, doSample: true, seed: 3 }, []);
  for (let i = 0; i < 20; i++) assert.ok([2, 4].includes(bannedSampled.choose(row, 0, [], undefined, mask).id));
  // Logprobs stay those of the raw distribution.
  const c = new TokenChooser(GREEDY, []).choose(row, 1, [], undefined, mask);
  assert.deepEqual(c.top.ids, [0]);
});
