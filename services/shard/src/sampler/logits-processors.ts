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
export function applyTopK(scores: Float64Array, k: number, work?: Float64Array): void {
  if (k <= 0 || k >= scores.length) return;
  const kth = kthLargest(scores, k, work);
  for (let i = 0; i < scores.length; i++) if (scores[i]! < kth) scores[i] = -Infinity;
}

/**
 * The value a descending sort puts at position k − 1 (1 ≤ k ≤ length): quickselect on a copy, O(n),
 * where sorting a 32k-vocabulary row cost ~3 ms.
 */
export function kthLargest(values: Float64Array, k: number, work: Float64Array = new Float64Array(values.length)): number {
  const a = work.length === values.length ? work : work.subarray(0, values.length);
  a.set(values);
  const target = a.length - k; // its index in ascending order
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = medianOfThree(a[lo]!, a[(lo + hi) >>> 1]!, a[hi]!);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
}

function medianOfThree(x: number, y: number, z: number): number {
  return Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
}

/** Softmax probabilities of the scores (float64; -Infinity → 0), into `out`. */
export function softmax(scores: Float64Array, out: Float64Array = new Float64Array(scores.length)): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > max) max = scores[i]!;
  let sum = 0;
  // Removed tokens (-Infinity, most of a row after top-k or top-p) skip the exp: it is most of the cost.
  for (let i = 0; i < scores.length; i++) sum += out[i] = scores[i] === -Infinity ? 0 : Math.exp(scores[i]! - max);
  for (let i = 0; i < scores.length; i++) out[i]! /= sum;
  return out;
}

/**
 * Nucleus: keeps the most likely tokens whose cumulative probability first reaches p (at least one).
 * Leaves in `probsOut` the softmax of the scores it was given with the removed tokens zeroed, and
 * returns their kept mass (1 when p is outside (0, 1) and nothing was computed).
 */
export function applyTopP(
  scores: Float64Array,
  p: number,
  work: Float64Array = new Float64Array(scores.length),
  probsOut: Float64Array = new Float64Array(scores.length),
): number {
  if (p <= 0 || p >= 1) return 1;
  const probs = softmax(scores, probsOut);
  const threshold = nucleusThreshold(probs, p, work);
  let kept = 0;
  for (let i = 0; i < scores.length; i++) {
    if (probs[i]! < threshold) {
      scores[i] = -Infinity;
      probs[i] = 0;
    } else kept += probs[i]!;
  }
  return kept;
}

/**
 * The probability at which the cumulative mass of the probabilities, taken in descending order, first
 * reaches p: the smallest one top-p keeps (ties with it are kept too). A selection by mass instead of
 * a sort: partition around a pivot, keep the side that holds the crossing, O(n) expected. Only the
 * order of the float64 additions differs from summing a sorted copy.
 */
export function nucleusThreshold(probs: Float64Array, p: number, work: Float64Array = new Float64Array(probs.length)): number {
  let n = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i]! > 0) work[n++] = probs[i]!;
  let lo = 0;
  let hi = n; // the crossing lies among work[lo, hi), with `need` of the mass still to reach
  let need = p;
  while (hi - lo > 32) {
    const pivot = medianOfThree(work[lo]!, work[(lo + hi) >>> 1]!, work[hi - 1]!);
    // Three-way partition: [lo, gt) > pivot, [gt, lt) = pivot, [lt, hi) < pivot.
    let gt = lo;
    let i = lo;
    let lt = hi;
    let above = 0;
    let equal = 0;
    while (i < lt) {
      const v = work[i]!;
      if (v > pivot) {
        above += v;
        work[i++] = work[gt]!;
        work[gt++] = v;
      } else if (v < pivot) {
        work[i] = work[--lt]!;
        work[lt] = v;
      } else {
        equal += v;
        i++;
      }
    }
    if (above >= need) hi = gt;
    else if (above + equal >= need || lt === hi) return pivot;
    else {
      need -= above + equal;
      lo = lt;
    }
  }
  const rest = work.subarray(lo, hi).sort();
  let cum = 0;
  for (let j = rest.length - 1; j >= 0; j--) {
    cum += rest[j]!;
    if (cum >= need) return rest[j]!;
  }
  return rest[0] ?? 0; // rounding left the mass short of p: keep every token
}

/** min_p: removes tokens whose probability is below min_p × the top probability (compared as scores: s < max + ln min_p). */
export function applyMinP(scores: Float64Array, minP: number): void {
  if (minP <= 0) return;
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > max) max = scores[i]!;
  const threshold = max + Math.log(minP);
  for (let i = 0; i < scores.length; i++) if (scores[i]! < threshold) scores[i] = -Infinity;
}

/** Locally typical sampling (HF TypicalLogitsWarper): keeps tokens closest to the entropy until mass ≥ p. */
export function applyTypicalP(scores: Float64Array, mass: number): void {
  if (mass <= 0 || mass >= 1) return;
  const probs = softmax(scores);
  let entropy = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i]! > 0) entropy -= probs[i]! * Math.log(probs[i]!);
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
