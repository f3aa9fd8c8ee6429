// @module OpenAI legacy completions `logprobs`: {tokens, token_logprobs, top_logprobs, text_offset}, prompt tokens first with `echo`.
import type { PrefillToken, TokenEvent, TokenInfo } from '../infer/events.ts';

export interface LegacyLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  /** Alternatives by token text (the chosen token always included, as OpenAI does); null for the first prompt token. */
  top_logprobs: (Record<string, number> | null)[];
  /** Character offset of each token in the choice's text. */
  text_offset: number[];
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Accumulates entries, one token at a time. */
export class LegacyLogprobsBuilder {
  readonly value: LegacyLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  /** Where the next token's text starts in the choice's text. */
  offset: number;

  constructor(startOffset = 0) {
    this.offset = startOffset;
  }

  /** One prompt token (echo) with its alternatives; the first prompt token has none (null). */
  promptToken(t: PrefillToken): this {
    const lp = finite(t.logprob);
    if (lp === null) return this.#push(t, null, null);
    const top: Record<string, number> = {};
    for (const alt of t.topTokens) if (!(alt.text in top)) top[alt.text] = alt.logprob;
    top[t.text] ??= lp;
    return this.#push(t, lp, top);
  }

  /** One generated token with its alternatives. */
  generated(e: TokenEvent): this {
    const top: Record<string, number> = {};
    for (const alt of e.topTokens) if (!(alt.text in top)) top[alt.text] = alt.logprob;
    top[e.token.text] ??= e.token.logprob;
    return this.#push(e.token, finite(e.token.logprob), top);
  }

  #push(t: TokenInfo, logprob: number | null, top: Record<string, number> | null): this {
    this.value.tokens.push(t.text);
    this.value.token_logprobs.push(logprob);
    this.value.top_logprobs.push(top);
    this.value.text_offset.push(this.offset);
    this.offset += t.text.length;
    return this;
  }
}

/** The logprobs of one non-streamed choice: echoed prompt tokens (when given), then the generated ones. */
export function legacyLogprobs(prompt: { tokens: PrefillToken[]; text: string } | null, tokens: TokenEvent[]): LegacyLogprobs {
  const b = new LegacyLogprobsBuilder();
  for (const t of prompt?.tokens ?? []) b.promptToken(t);
  // Generated text starts right after the echoed prompt text (token texts may not add up to it: BOS, spaces).
  if (prompt !== null) b.offset = prompt.text.length;
  for (const e of tokens) b.generated(e);
  return b.value;
}
