// @module Tokenizing a prompt without paying for all of a huge one: prefixes of doubling length prove "too long" early.

/** Characters per token the first probe assumes (prose is ~4); each further probe doubles the prefix. */
const PROBE_CHARS_PER_TOKEN = 8;
/**
 * Tokens a cut can add at a prefix's end (a word or a special token split in two). A prefix with more
 * than maxTokens + this many tokens proves the whole text has more than maxTokens.
 */
export const CUT_MARGIN_TOKENS = 64;

export type BoundedEncoding = { ids: number[] } | { tooLong: true; atLeast: number };

/**
 * Tokenizes `text`, unless a prefix already shows it has more than `maxTokens` tokens. Tokenizing is
 * synchronous and linear in the text (seconds for a 16 MB body, the event loop blocked meanwhile), so a
 * long text is probed by prefixes of doubling length: the cost stays within about twice what it takes
 * to tokenize maxTokens tokens of it, or twice the full text when it fits.
 */
export function encodeBounded(encode: (text: string) => number[], text: string, maxTokens: number): BoundedEncoding {
  const limit = maxTokens + CUT_MARGIN_TOKENS;
  let probe = limit * PROBE_CHARS_PER_TOKEN;
  while (probe < text.length) {
    const count = encode(text.slice(0, probe)).length;
    if (count > limit) return { tooLong: true, atLeast: count - CUT_MARGIN_TOKENS };
    probe *= 2;
  }
  return { ids: encode(text) };
}
