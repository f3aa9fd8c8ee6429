// @module Hand-computed expectations for every logits processor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyFrequencyPresence,
  applyLogitBias,
  applyMinP,
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  applyTypicalP,
  kthLargest,
  nucleusThreshold,
  softmax,
  suppressTokens,
} from './logits-processors.ts';

const scores = (...v: number[]) => Float64Array.from(v);
const kept = (s: Float64Array) => [...s.keys()].filter((i) => s[i] !== -Infinity);

test('repetition penalty divides positive and multiplies negative scores of seen tokens (HF)', () => {
  const s = scores(2, -2, 1, 4);
  applyRepetitionPenalty(s, new Set([0, 1]), 2);
  assert.deepEqual([...s], [1, -4, 1, 4]);
});

test('frequency and presence penalties subtract f·count + p for generated tokens (OpenAI)', () => {
  const s = scores(1, 1, 1);
  applyFrequencyPresence(
    s,
    new Map([
      [0, 3],
      [2, 1],
    ]),
    0.5,
    0.25,
  );
  assert.deepEqual([...s], [1 - 1.5 - 0.25, 1, 1 - 0.5 - 0.25]);
});

test('logit bias adds per id and ignores ids outside the vocabulary', () => {
  const s = scores(0, 0, 0);
  applyLogitBias(s, { 1: 5, 2: -100, 9: 3 });
  assert.deepEqual([...s], [0, 5, -100]);
});

test('suppressTokens forbids ids', () => {
  const s = scores(1, 2, 3);
  suppressTokens(s, [2]);
  assert.deepEqual(kept(s), [0, 1]);
});

test('temperature divides the scores', () => {
  const s = scores(1, -2);
  applyTemperature(s, 0.5);
  assert.deepEqual([...s], [2, -4]);
});

test('top-k keeps the k best and their ties', () => {
  const s = scores(1, 5, 3, 5, 2);
  applyTopK(s, 2);
  assert.deepEqual(kept(s), [1, 3]);
  const t = scores(1, 5, 3, 3, 2);
  applyTopK(t, 2);
  assert.deepEqual(kept(t), [1, 2, 3]);
});

test('top-p keeps the smallest most-likely set reaching p', () => {
  // probs 0.5, 0.3, 0.2
  const s = scores(Math.log(0.5), Math.log(0.3), Math.log(0.2));
  applyTopP(s, 0.7);
  assert.deepEqual(kept(s), [0, 1]);
  const t = scores(Math.log(0.5), Math.log(0.3), Math.log(0.2));
  applyTopP(t, 0.5);
  assert.deepEqual(kept(t), [0]);
  const u = scores(Math.log(0.5), Math.log(0.3), Math.log(0.2));
  applyTopP(u, 0.81);
  assert.deepEqual(kept(u), [0, 1, 2]);
  // It leaves the probabilities behind, the removed ones zeroed, and returns the kept mass.
  const probs = new Float64Array(3);
  const mass = applyTopP(scores(Math.log(0.5), Math.log(0.3), Math.log(0.2)), 0.7, undefined, probs);
  assert.ok(Math.abs(mass - 0.8) < 1e-12 && Math.abs(probs[0]! - 0.5) < 1e-12 && probs[2] === 0);
  assert.equal(applyTopP(scores(0, 0), 1), 1, 'p = 1 keeps everything');
});

test('min-p drops tokens below min_p × the top probability', () => {
  // probs 0.6, 0.35, 0.05 → threshold 0.5 · 0.6 = 0.3 keeps 0 and 1
  const s = scores(Math.log(0.6), Math.log(0.35), Math.log(0.05));
  applyMinP(s, 0.5);
  assert.deepEqual(kept(s), [0, 1]);
});

test('typical-p keeps tokens closest to the entropy until the mass is reached', () => {
  // probs 0.7, 0.2, 0.1: H = 0.8018; distances 0.445 (0), 0.808 (1), 1.501 (2) → 0 then 1 reach 0.8
  const t = scores(Math.log(0.7), Math.log(0.2), Math.log(0.1));
  applyTypicalP(t, 0.8);
  assert.deepEqual(kept(t), [0, 1]);
  const u = scores(Math.log(0.7), Math.log(0.2), Math.log(0.1));
  applyTypicalP(u, 0.6);
  assert.deepEqual(kept(u), [0]);
});

test('softmax handles -Infinity', () => {
  const p = softmax(scores(0, -Infinity, 0));
  assert.deepEqual([...p], [0.5, 0, 0.5]);
});

/** Seeded uniform draws for the randomized comparisons below. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

test('kthLargest is the order statistic a descending sort gives, with ties and -Infinity', () => {
  const rand = lcg(3);
  for (let round = 0; round < 200; round++) {
    const n = 1 + Math.floor(rand() * 300);
    // Few distinct values on some rounds (many ties), a continuum on others; some removed tokens.
    const distinct = round % 2 === 0 ? 5 : 1e9;
    const values = Float64Array.from({ length: n }, () => (rand() < 0.1 ? -Infinity : Math.floor(rand() * distinct) / 7));
    const sorted = Float64Array.from(values).sort().reverse();
    const k = 1 + Math.floor(rand() * n);
    assert.equal(kthLargest(values, k), sorted[k - 1], `round ${round}, n ${n}, k ${k}`);
  }
});

test('nucleusThreshold is the probability where the descending cumulative mass first reaches p', () => {
  const rand = lcg(11);
  for (let round = 0; round < 200; round++) {
    const n = 1 + Math.floor(rand() * 2000);
    const peaked = round % 3 === 0;
    const s = Float64Array.from({ length: n }, () => (peaked ? rand() * 20 : Math.floor(rand() * 6)) - (rand() < 0.05 ? Infinity : 0));
    if (!s.some((v) => v > -Infinity)) s[0] = 0;
    const probs = softmax(s);
    const p = [0.05, 0.5, 0.9, 0.95, 0.999][round % 5]!;
    // The definition: sort descending, add until the mass reaches p.
    const sorted = Float64Array.from(probs).sort().reverse();
    let cum = 0;
    let expected = sorted[0]!;
    for (const q of sorted) {
      cum += q;
      expected = q;
      if (cum >= p) break;
    }
    const threshold = nucleusThreshold(probs, p);
    // Summed in another order the mass may cross p one ULP apart: then the kept set may differ by the
    // tokens tied at the boundary, never by more. With distinct values it is the same token.
    assert.ok(threshold === expected || Math.abs(cum - p) < 1e-12, `round ${round}: ${threshold} vs ${expected}`);
  }
});
