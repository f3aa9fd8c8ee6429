// @module Per-request token chooser: raw logprobs + top-n, then processors, then greedy or seeded sampling.
import { chooserSeed, isGreedy } from '@tessera/protocol/sampling';
import type { NextTokenChooserParameters, Tokens } from '@tessera/protocol';
import {
  applyFrequencyPresence,
  applyLogitBias,
  applyMask,
  applyMinP,
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  applyTypicalP,
  softmax,
  suppressTokens,
} from './logits-processors.ts';
import { Rng, randomSeed } from './rng.ts';
import { allowed } from '@tessera/grammar';

/**
 * Float64 rows reused from one choice to the next (allocating and zeroing 256 KiB per row cost more
 * than the arithmetic): a choice runs synchronously and keeps none of them once it returns.
 */
const ROW_BUFFERS: Float64Array[] = [];
const SCORES = 0;
const PROBS = 1;
const WORK = 2;

function rowBuffer(slot: number, length: number): Float64Array {
  let buffer = ROW_BUFFERS[slot];
  if (buffer === undefined || buffer.length < length) buffer = ROW_BUFFERS[slot] = new Float64Array(length);
  return buffer.length === length ? buffer : buffer.subarray(0, length);
}

/** A row's (or a step's [rows, k]) highest logits, descending with ties to the lower id, and their ids: the graph's top-k. */
export interface TopLogits {
  k: number;
  logits: Float32Array;
  ids: BigInt64Array;
}

export interface Choice {
  id: number;
  /** log_softmax of the raw logits at `id`. */
  logprob: number;
  /** The top-n tokens of the raw distribution (empty when n = 0). */
  top: Tokens;
}

/** log(Σ exp(logits)), in float64: logprob(i) = logits[i] − logSumExp(logits). */
export function logSumExp(logits: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return max + Math.log(sum);
}

/** log_softmax of a logits row, in float64. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const lse = logSumExp(logits);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - lse;
  return out;
}

/** The n highest values, descending; ties go to the lowest id. */
export function topN(values: ArrayLike<number>, n: number): Tokens {
  const ids: number[] = [];
  for (let i = 0; i < values.length && n > 0; i++) {
    const v = values[i]!;
    if (ids.length === n && v <= values[ids[n - 1]!]!) continue;
    let at = ids.length === n ? n - 1 : ids.length;
    while (at > 0 && values[ids[at - 1]!]! < v) at--;
    ids.splice(at, 0, i);
    if (ids.length > n) ids.pop();
  }
  return { ids, logprobs: ids.map((i) => values[i]!) };
}

/** Index of the largest value among the ids a grammar mask allows; ties → lowest id. */
export function maskedArgmax(values: ArrayLike<number>, mask: Int32Array): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (allowed(mask, i) && (best < 0 || values[i]! > values[best]!)) best = i;
  return Math.max(best, 0);
}

/** Index of the largest value; ties → lowest id. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export class TokenChooser {
  readonly seed: number;
  readonly greedy: boolean;
  /**
   * The choice needs no more of a row than its highest `topNTokens` (at least 1) logits and its
   * log-sum-exp: greedy without penalties or bias, so the graph's top-k can stand in for the row
   * (min_new_tokens and grammar masks are the caller's to check).
   */
  readonly takesTopOnly: boolean;
  readonly #p: NextTokenChooserParameters;
  /** Which processors change the raw logits (read once from the parameters, not per row). */
  readonly #repetition: boolean;
  readonly #frequencyPresence: boolean;
  readonly #biased: boolean;
  readonly #rng: Rng;
  /** Every token of the context (prompt + generated), for the repetition penalty. */
  readonly #seen: Set<number>;
  /** Generated-token counts, for frequency/presence penalties. */
  readonly #counts = new Map<number, number>();

  constructor(params: NextTokenChooserParameters, prompt: Iterable<number>) {
    this.#p = params;
    // Temperature 0 means greedy unless do_sample asks for sampling (then at temperature 1).
    this.greedy = isGreedy(params);
    this.#repetition = params.repetitionPenalty > 0 && params.repetitionPenalty !== 1;
    this.#frequencyPresence = params.frequencyPenalty !== 0 || params.presencePenalty !== 0;
    this.#biased = params.logitBias !== undefined && params.logitBias !== null && Object.keys(params.logitBias).length > 0;
    this.takesTopOnly = this.greedy && !this.#repetition && !this.#frequencyPresence && !this.#biased;
    this.seed = chooserSeed(params, randomSeed);
    this.#rng = new Rng(this.seed);
    this.#seen = new Set(prompt);
  }

  /** choose() for a takesTopOnly chooser, from the row's highest logits (descending, ties to the lower id) and its log-sum-exp. */
  chooseFromTop(top: TopLogits, topNTokens: number, lse: number): Choice {
    if (!this.takesTopOnly) throw new Error('chooseFromTop: this request needs whole rows of logits');
    if (topNTokens > top.k) throw new Error(`chooseFromTop: top-${topNTokens} asked of a top-${top.k} selection`);
    const ids: number[] = [];
    const logprobs: number[] = [];
    for (let i = 0; i < topNTokens; i++) {
      ids.push(Number(top.ids[i]!));
      logprobs.push(top.logits[i]! - lse);
    }
    return { id: Number(top.ids[0]!), logprob: top.logits[0]! - lse, top: { ids, logprobs } };
  }

  /** Records a generated token (penalties see it from the next choice on). */
  accept(id: number): void {
    this.#seen.add(id);
    this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
  }

  /**
   * Picks the next token from one logits row; `forbidden` ids cannot be chosen (min_new_tokens), nor
   * can ids outside a grammar's `mask` (constrained decoding). Logprobs and top-n stay those of the
   * raw distribution, as for every other processor.
   */
  choose(
    logits: Float32Array,
    topNTokens: number,
    forbidden: ReadonlySet<number> | readonly number[] = [],
    knownLse?: number,
    mask: Int32Array | null = null,
  ): Choice {
    // The per-row hot path of every decode step (32 rows × 32k vocab at batch 32): logprobs come
    // from one log-sum-exp, and plain greedy rows take argmax of the raw logits without a copy.
    const lse = knownLse ?? logSumExp(logits);
    const top = topN(logits, topNTokens);
    top.logprobs = top.logprobs.map((l) => l - lse);
    const nothingForbidden = Array.isArray(forbidden) ? forbidden.length === 0 : (forbidden as ReadonlySet<number>).size === 0;
    if (this.takesTopOnly && nothingForbidden) {
      const id = mask === null ? argmax(logits) : maskedArgmax(logits, mask);
      return { id, logprob: logits[id]! - lse, top };
    }
    let id: number;
    if (this.greedy) id = argmax(this.#processed(logits, forbidden, mask));
    else {
      const { probs, total } = this.#distribution(logits, forbidden, mask);
      id = this.#draw(probs, total);
    }
    return { id, logprob: logits[id]! - lse, top };
  }

  /**
   * Speculative decoding: this row's token given the draft token `draft`, distributed exactly as
   * choose()'s. Greedy keeps the argmax; sampling is rejection sampling with a point-mass draft
   * (Leviathan et al. 2023, Chen et al. 2023): accept `draft` with probability p(draft), else draw
   * from p without it, renormalised. The id equals `draft` iff the draft was accepted.
   */
  verify(logits: Float32Array, draft: number, topNTokens: number, forbidden: ReadonlySet<number> | readonly number[] = [], knownLse?: number): Choice {
    if (this.greedy) return this.choose(logits, topNTokens, forbidden, knownLse);
    const lse = knownLse ?? logSumExp(logits);
    const top = topN(logits, topNTokens);
    top.logprobs = top.logprobs.map((l) => l - lse);
    const { probs, total } = this.#distribution(logits, forbidden);
    const pDraft = (probs[draft] ?? 0) / total;
    let id = draft;
    if (this.#rng.next() >= pDraft && pDraft < 1) {
      const rest = total - probs[draft]!;
      probs[draft] = 0;
      id = this.#draw(probs, rest);
    }
    return { id, logprob: logits[id]! - lse, top };
  }

  /**
   * Sampling: the row's distribution after every processor and warper, as probabilities in
   * ROW_BUFFERS summing to `total` (1 after a softmax; top-p's kept mass when top-p is the last warper,
   * whose probabilities, the removed ones zeroed, then need no second softmax).
   */
  #distribution(
    logits: Float32Array,
    forbidden: ReadonlySet<number> | readonly number[],
    mask: Int32Array | null = null,
  ): { probs: Float64Array; total: number } {
    const p = this.#p;
    const scores = this.#processed(logits, forbidden, mask);
    const probs = rowBuffer(PROBS, scores.length);
    if (p.topP > 0 && p.topP < 1) {
      const kept = applyTopP(scores, p.topP, rowBuffer(WORK, scores.length), probs);
      if (!(p.minP > 0) && !(p.typicalP > 0 && p.typicalP < 1)) return { probs, total: kept };
    }
    if (p.minP > 0) applyMinP(scores, p.minP);
    if (p.typicalP > 0 && p.typicalP < 1) applyTypicalP(scores, p.typicalP);
    return { probs: softmax(scores, probs), total: 1 };
  }

  /** The row's scores after the penalties, bias, forbidden ids, the grammar mask and (when sampling) temperature and top-k (in ROW_BUFFERS). */
  #processed(logits: Float32Array, forbidden: ReadonlySet<number> | readonly number[], mask: Int32Array | null = null): Float64Array {
    const p = this.#p;
    const scores = rowBuffer(SCORES, logits.length);
    scores.set(logits);
    if (this.#repetition) applyRepetitionPenalty(scores, this.#seen, p.repetitionPenalty);
    if (this.#frequencyPresence) applyFrequencyPresence(scores, this.#counts, p.frequencyPenalty, p.presencePenalty);
    if (this.#biased) applyLogitBias(scores, p.logitBias);
    suppressTokens(scores, forbidden);
    if (mask !== null) {
      applyMask(scores, mask);
      // logit_bias or penalties may have pushed every allowed token to -Infinity: the grammar still
      // needs one, so the allowed tokens keep their raw logits (never an id the grammar refuses).
      if (!scores.some((s) => s > -Infinity)) {
        scores.set(logits);
        applyMask(scores, mask);
      }
    }
    if (this.greedy) return scores;
    const t = p.temperature > 0 ? p.temperature : 1;
    if (t !== 1) applyTemperature(scores, t);
    if (p.topK > 0) applyTopK(scores, p.topK, rowBuffer(WORK, scores.length));
    return scores;
  }

  /** One seeded draw from `probs`, whose entries sum to `total` (< 1 after a rejected draft was removed). */
  #draw(probs: Float64Array, total: number): number {
    let u = this.#rng.next() * total;
    let last = 0;
    for (let i = 0; i < probs.length; i++) {
      if (probs[i]! <= 0) continue;
      last = i;
      u -= probs[i]!;
      if (u < 0) return i;
    }
    return last; // rounding left a sliver: the last possible token
  }
}
