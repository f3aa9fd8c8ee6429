// @module Which logits a step brings back from the graph: each row's top-k when every request only takes argmax and top-n, else whole rows.
import type { RequestState } from './batch.ts';

/**
 * The k (≥ 1) of the graph's top-k selection that serves every request of the step, or null when
 * one needs whole rows: sampling, penalties or logit bias, a grammar mask, stop ids forbidden by
 * min_new_tokens, or prompt logprobs at prefill. Greedy requests (the common case, and every step
 * a speculative draft verifies) then read k values per row instead of the vocabulary.
 */
export function topKServing(requests: readonly RequestState[], prefill: boolean, vocabSize: number): number | null {
  let k = 1;
  for (const r of requests) {
    if (!r.chooser.takesTopOnly || r.grammar !== '' || r.stopping.suppressStops(r.generated)) return null;
    if (prefill && r.prefillLogprobs) return null;
    k = Math.max(k, r.topNTokens);
  }
  return k <= vocabSize ? k : null;
}
