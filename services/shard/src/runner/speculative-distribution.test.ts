// @module Speculative sampling keeps the model's distribution: seeded engine runs with and without drafts against the exact joint distribution (chi-square).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NextTokenChooserParameters } from '@tessera/protocol';
import { batchOf, engineOn, type FakeModel, FakeRunner, request, V } from './shard-engine.test-helper.ts';

/** A broad distribution that moves with the last token and the position, so drafts are accepted only sometimes. */
const soft: FakeModel = (context) => Float32Array.from({ length: V }, (_, j) => 0.5 * ((j * 3 + context.at(-1)! * 5 + context.length) % V));

const PROMPT = [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7]; // every token occurs, so a draft always exists
const params = (seed: number): NextTokenChooserParameters => ({
  temperature: 0.8,
  topK: 6,
  topP: 0,
  typicalP: 0,
  doSample: true,
  seed,
  repetitionPenalty: 0,
  // Depends on the tokens generated before: each accepted draft token must be counted before the next row.
  frequencyPenalty: 0.7,
  presencePenalty: 0,
  minP: 0,
  logitBias: {},
});

/** The processed distribution the sampler draws from after `generated` (frequency penalty, temperature, top-k). */
function nextProbs(generated: readonly number[]): number[] {
  const scores = Array.from(soft(PROMPT.concat(generated)));
  for (const t of generated) scores[t]! -= 0.7;
  const scaled = scores.map((s) => s / 0.8);
  const kth = [...scaled].sort((a, b) => b - a)[5]!;
  const exp = scaled.map((s) => (s >= kth ? Math.exp(s) : 0));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

/** The exact P(x2 = a, x3 = b): the second and third generated tokens, the first summed out. */
function expectedPairs(): number[] {
  const out = new Array<number>(V * V).fill(0);
  nextProbs([]).forEach((p1, x1) => {
    nextProbs([x1]).forEach((p2, x2) => {
      nextProbs([x1, x2]).forEach((p3, x3) => {
        out[x2 * V + x3]! += p1 * p2 * p3;
      });
    });
  });
  return out;
}

/** Generates 4 tokens for one seed; returns them and the draft tokens accepted. */
async function run(seed: number, speculate: number): Promise<{ tokens: number[]; accepted: number }> {
  const engine = engineOn(new FakeRunner(null, soft), 0, { speculate });
  const req = request(1, PROMPT, {
    blocks: [0, 1, 2, 3, 4, 5],
    parameters: params(seed),
    stoppingParameters: { maxNewTokens: 4, stopTokenIds: [], minNewTokens: 0 },
  });
  const pre = await engine.prefill(batchOf(1, [req]));
  const tokens = [...pre.generations[0]!.tokens.ids];
  let accepted = 0;
  let batch = pre.batch;
  while (batch !== null) {
    const d = await engine.decode({ batches: [batch] });
    tokens.push(...d.generations[0]!.tokens.ids);
    accepted += d.timings.acceptedDraftTokens;
    batch = d.batch;
  }
  return { tokens, accepted };
}

/** Pearson's chi-square p-value (cells expected below 5 pooled), by the Wilson–Hilferty normal approximation. */
function chiSquarePValue(counts: number[], probs: number[], n: number): number {
  let chi2 = 0;
  let cells = 0;
  let pooledCount = 0;
  let pooledExpected = 0;
  probs.forEach((p, i) => {
    if (p === 0) return assert.equal(counts[i], 0, `cell ${i} has probability 0`);
    if (n * p < 5) {
      pooledCount += counts[i]!;
      pooledExpected += n * p;
      return;
    }
    chi2 += (counts[i]! - n * p) ** 2 / (n * p);
    cells++;
  });
  if (pooledExpected > 0) {
    chi2 += (pooledCount - pooledExpected) ** 2 / pooledExpected;
    cells++;
  }
  const df = cells - 1;
  const z = ((chi2 / df) ** (1 / 3) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7). */
function erfc(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return x >= 0 ? y : 2 - y;
}

const TRIALS = 4000;
/** Trial k's seed (consecutive seeds give independent streams: rng.test.ts). */
const seedOf = (k: number) => k + 1;

for (const speculate of [0, 4]) {
  test(`sampling with --speculate ${speculate}: the 2nd and 3rd tokens follow the model's joint distribution (chi-square, ${TRIALS} seeds)`, async () => {
    const counts = new Array<number>(V * V).fill(0);
    let accepted = 0;
    for (let seed = 1; seed <= TRIALS; seed++) {
      const r = await run(seedOf(seed), speculate);
      assert.equal(r.tokens.length, 4);
      counts[r.tokens[1]! * V + r.tokens[2]!]!++;
      accepted += r.accepted;
    }
    if (speculate > 0) assert.ok(accepted > TRIALS / 10, `drafts were verified and often accepted (${accepted})`);
    const p = chiSquarePValue(counts, expectedPairs(), TRIALS);
    assert.ok(p > 1e-3, `p-value ${p.toExponential(2)}: the sampled pairs do not follow the model`);
  });
}

test('seeded speculative sampling is reproducible', async () => {
  for (const seed of [7, 8, 9]) assert.deepEqual(await run(seed, 4), await run(seed, 4));
});
