// @module Logits processors, in place on float64 scores; removed tokens become -Infinity (HF semantics).

/** HF repetition penalty over every token seen (prompt + generated): s<0 → s·p, else s/p. */
export function applyRepetitionPenalty(scores: Float64Array, seen: Iterable<number>, penalty: number): void {
  for (const id of seen) {
    const s = scores[id]!;
    scores[id] = s < 0 ? s * penalty : s / penalty;
  }
}

/** OpenAI frequency/presence penalties over generated tokens: s -= f·count + p·[count > 0]. */
export function applyFrequencyPresence(scores: Float64Array, counts: Map<number, number>, frequency: number, presence: number): void {
  for (const [id, count] of counts) scores[id]! -= frequency * count + (count > 0 ? presence : 0);
}

/** Adds a bias per token id (ids outside the vocabulary are ignored). */
export function applyLogitBias(scores: Float64Array, bias: Record<number, number>): void {
  for (const [key, value] of Object.entries(bias)) {
    const id = Number(key);
    if (id >= 0 && id < scores.length) scores[id]! += value;
  }
}

/** Forbids the given ids (min_new_tokens not yet reached). */
export function suppressTokens(scores: Float64Array, ids: Iterable<number>): void {
  for (const id of ids) if (id >= 0 && id < scores.length) scores[id] = -Infinity;
}

/** Constrained decoding: ids a grammar mask does not allow become -Infinity (xgrammar's bit layout). */
export function applyMask(scores: Float64Array, mask: Int32Array): void {
  for (let i = 0; i < scores.length; i++) if (((mask[i >>> 5]! >>> (i & 31)) & 1) === 0) scores[i] = -Infinity;
}

export function applyTemperature(scores: Float64Array, temperature: number): void {
  for (let i = 0; i < scores.length; i++) scores[i]! /= temperature;
}

/** Keeps the k highest scores (ties with the k-th are kept, as HF's TopKLogitsWarper does). */
export function applyTopK(scores: Float64Array, k: number): void {
  if (k <= 0 || k >= scores.length) return;
  const kth = Float64Array.from(scores).sort()[scores.length - k]!;
  for (let i = 0; i < scores.length; i++) if (scores[i]! < kth) scores[i] = -Infinity;
}

/** Softmax probabilities of the scores (float64; -Infinity → 0). */
export function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  const probs = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += probs[i] = Math.exp(scores[i]! - max);
  for (let i = 0; i < probs.length; i++) probs[i]! /= sum;
  return probs;
}

/** Nucleus: keeps the most likely tokens whose cumulative probability first reaches p (at least one). */
export function applyTopP(scores: Float64Array, p: number): void {
  if (p <= 0 || p >= 1) return;
  const probs = softmax(scores);
  const sorted = Float64Array.from(probs).sort().reverse();
  let cum = 0;
  let threshold = sorted[0]!;
  for (const q of sorted) {
    cum += q;
    threshold = q;
    if (cum >= p) break;
  }
  for (let i = 0; i < scores.length; i++) if (probs[i]! < threshold) scores[i] = -Infinity;
}

/** min_p: removes tokens whose probability is below min_p × the top probability. */
export function applyMinP(scores: Float64Array, minP: number): void {
  if (minP <= 0) return;
  const probs = softmax(scores);
  let top = 0;
  for (const q of probs) if (q > top) top = q;
  const threshold = minP * top;
  for (let i = 0; i < scores.length; i++) if (probs[i]! < threshold) scores[i] = -Infinity;
}

/** Locally typical sampling (HF TypicalLogitsWarper): keeps tokens closest to the entropy until mass ≥ p. */
export function applyTypicalP(scores: Float64Array, mass: number): void {
  if (mass <= 0 || mass >= 1) return;
  const probs = softmax(scores);
  let entropy = 0;
  for (const q of probs) if (q > 0) entropy -= q * Math.log(q);
  const shifted = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) shifted[i] = probs[i]! > 0 ? Math.abs(-Math.log(probs[i]!) - entropy) : Infinity;
  const order = Array.from(scores.keys()).sort((a, b) => shifted[a]! - shifted[b]! || a - b);
  let cum = 0;
  let last = order.length - 1;
  for (let j = 0; j < order.length; j++) {
    cum += probs[order[j]!]!;
    if (cum >= mass) {
      last = j;
      break;
    }
  }
  const limit = shifted[order[last]!]!;
  for (let i = 0; i < scores.length; i++) if (shifted[i]! > limit) scores[i] = -Infinity;
}
