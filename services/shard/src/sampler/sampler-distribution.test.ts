// @module Distribution tests: seeded sampling after each warper follows the hand-computed distribution (chi-square).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NextTokenChooserParameters } from '@tessera/protocol';
import { TokenChooser } from './sampler.ts';

const SAMPLE: NextTokenChooserParameters = {
  temperature: 1,
  topK: 0,
  topP: 1,
  typicalP: 1,
  doSample: true,
  seed: 20240601,
  repetitionPenalty: 1,
  frequencyPenalty: 0,
  presencePenalty: 0,
  minP: 0,
  logitBias: {},
};
const N = 20_000;

/** Draw counts per id over N seeded draws from one row. */
function histogram(params: Partial<NextTokenChooserParameters>, probs: number[]): number[] {
  const chooser = new TokenChooser({ ...SAMPLE, ...params }, []);
  const row = Float32Array.from(probs, Math.log);
  const counts = probs.map(() => 0);
  for (let i = 0; i < N; i++) counts[chooser.choose(row, 0).id]!++;
  return counts;
}

/**
 * Tokens with expected probability 0 must never appear; the others pass Pearson's chi-square at
 * p = 0.001 (critical values for 1…4 degrees of freedom). The seed is fixed, so the result never flakes.
 */
function assertFollows(counts: number[], expected: number[]): void {
  const CRITICAL = [10.83, 13.82, 16.27, 18.47];
  let chi2 = 0;
  let df = -1;
  expected.forEach((p, id) => {
    if (p === 0) return assert.equal(counts[id], 0, `token ${id} must never be drawn`);
    chi2 += (counts[id]! - N * p) ** 2 / (N * p);
    df++;
  });
  if (df > 0) assert.ok(chi2 < CRITICAL[df - 1]!, `chi2 ${chi2.toFixed(2)} with ${df} df; counts ${counts}, expected ${expected}`);
}

const normalise = (v: number[]) => v.map((x) => x / v.reduce((a, b) => a + b, 0));

test('plain sampling follows the softmax', () => {
  assertFollows(histogram({}, [0.1, 0.6, 0.3]), [0.1, 0.6, 0.3]);
});

test('temperature 0.5 squares the probabilities (p^(1/T), renormalised)', () => {
  assertFollows(histogram({ temperature: 0.5 }, [0.1, 0.6, 0.3]), normalise([0.01, 0.36, 0.09]));
});

test('temperature 2 flattens them (sqrt p, renormalised)', () => {
  assertFollows(histogram({ temperature: 2 }, [0.1, 0.6, 0.3]), normalise([0.1, 0.6, 0.3].map(Math.sqrt)));
});

test('top_k 2 keeps the two most likely, renormalised', () => {
  assertFollows(histogram({ topK: 2 }, [0.1, 0.6, 0.3]), [0, 0.6 / 0.9, 0.3 / 0.9]);
});

test('top_p 0.8 keeps 0.5 + 0.3; min_p 0.4 keeps tokens ≥ 0.2', () => {
  const probs = [0.5, 0.3, 0.15, 0.05];
  assertFollows(histogram({ topP: 0.8 }, probs), [0.625, 0.375, 0, 0]);
  assertFollows(histogram({ minP: 0.4 }, probs), [0.625, 0.375, 0, 0]);
  assertFollows(histogram({ minP: 0.25 }, probs), normalise([0.5, 0.3, 0.15, 0]));
});

test('typical_p 0.5 keeps the tokens closest to the entropy until half the mass', () => {
  // probs 0.4, 0.3, 0.2, 0.1: H = 1.2799; |−ln p − H| = 0.364, 0.076, 0.330, 1.023 → order 1, 2, 0:
  // 0.3 + 0.2 = 0.5 reaches the mass.
  assertFollows(histogram({ typicalP: 0.5 }, [0.4, 0.3, 0.2, 0.1]), [0, 0.6, 0.4, 0]);
});

test('presence penalty 2 after a draw shifts later draws away from it (logit − 2)', () => {
  const chooser = new TokenChooser({ ...SAMPLE, presencePenalty: 2 }, []);
  chooser.accept(0);
  const row = Float32Array.from([0.5, 0.5], Math.log);
  const counts = [0, 0];
  for (let i = 0; i < N; i++) counts[chooser.choose(row, 0).id]!++;
  const e2 = Math.exp(-2);
  assertFollows(counts, [e2 / (1 + e2), 1 / (1 + e2)]);
});

test('top_p after temperature draws from the kept probabilities renormalised (no second softmax)', () => {
  // T = 0.5 squares the probabilities: 0.25, 0.09, 0.0225, 0.0025 → normalised 0.6887, 0.2479, 0.0620, 0.0069.
  const tempered = normalise([0.25, 0.09, 0.0225, 0.0025]);
  // top_p 0.9 keeps the first two (0.9366 ≥ 0.9), renormalised.
  assertFollows(histogram({ temperature: 0.5, topP: 0.9 }, [0.5, 0.3, 0.15, 0.05]), normalise(tempered.slice(0, 2).concat([0, 0])));
  // With min_p after top_p the kept scores are softmaxed again: the same distribution.
  assertFollows(histogram({ temperature: 0.5, topP: 0.9, minP: 0.1 }, [0.5, 0.3, 0.15, 0.05]), normalise(tempered.slice(0, 2).concat([0, 0])));
});

test('verify() under top_p: the token follows the nucleus distribution whatever the draft (rejection sampling)', () => {
  const probs = [0.5, 0.3, 0.15, 0.05];
  const row = Float32Array.from(probs, Math.log);
  for (const draft of [0, 1, 3]) {
    const chooser = new TokenChooser({ ...SAMPLE, topP: 0.8 }, []);
    const counts = probs.map(() => 0);
    for (let i = 0; i < N; i++) counts[chooser.verify(row, draft, 0).id]!++;
    assertFollows(counts, [0.625, 0.375, 0, 0]);
  }
});
