// @module Prompt-lookup drafting for speculative decoding: the tokens that followed the latest earlier occurrence of the context's last n-gram.

/** Longest n-gram tried first: a longer match predicts the continuation better, a shorter one matches more often. */
export const MAX_NGRAM = 3;

/**
 * Up to `maxTokens` draft tokens for `tokens` (prompt + generated): finds the most recent earlier
 * occurrence of the last n tokens (n = MAX_NGRAM down to 1) and proposes what followed it. Empty
 * when nothing matches. Deterministic in `tokens`, so every tensor-parallel rank drafts the same.
 */
export function proposeDraft(tokens: readonly number[], maxTokens: number, maxNgram: number = MAX_NGRAM): number[] {
  const L = tokens.length;
  if (maxTokens <= 0) return [];
  for (let n = Math.min(maxNgram, L - 1); n >= 1; n--) {
    // Candidate starts j < L - n, latest first; the match tokens[j, j+n) = tokens[L-n, L).
    for (let j = L - n - 1; j >= 0; j--) {
      let k = 0;
      while (k < n && tokens[j + k] === tokens[L - n + k]) k++;
      if (k === n) return continuation(tokens, j + n, maxTokens);
    }
  }
  return [];
}

/**
 * The `count` tokens from `from` on, reading on into the draft itself where the tokens end (as an LZ77
 * copy does): a match one period back in a loop (…a b a b → a b a b) drafts the loop's continuation
 * in full, not only the part that has already been generated.
 */
function continuation(tokens: readonly number[], from: number, count: number): number[] {
  const draft: number[] = [];
  for (let k = 0; k < count; k++) {
    const at = from + k;
    draft.push(at < tokens.length ? tokens[at]! : draft[at - tokens.length]!);
  }
  return draft;
}
