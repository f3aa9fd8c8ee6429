// @module Test fixtures: TokenEvents, EndEvents and Finished choices as the inference layer hands them to the API translators.
import type { Finished } from '../api/choices.ts';
import type { EndEvent, PrefillToken, TokenEvent, TokenInfo } from '../infer/events.ts';
import type { ValidRequest } from '../validation/valid-request.ts';

export const tokenInfo = (id: number, text: string, logprob = -0.5, special = false): TokenInfo => ({ id, text, logprob, special });

/** Generated token `index` with text `text` (its delta too unless given), alternatives `top`. */
export function tokenEvent(index: number, text: string, opts: { delta?: string; logprob?: number; top?: TokenInfo[]; id?: number } = {}): TokenEvent {
  return { type: 'token', index, token: tokenInfo(opts.id ?? 100 + index, text, opts.logprob ?? -0.5), topTokens: opts.top ?? [], delta: opts.delta ?? text };
}

export function endEvent(over: Partial<EndEvent> = {}): EndEvent {
  return {
    type: 'end',
    finishReason: 'length',
    generatedText: 'ab',
    generatedTokens: 2,
    seed: null,
    inputLength: 3,
    stop: null,
    cumulativeLogprob: -1,
    prefill: null,
    timings: { queueMs: 1, firstTokenMs: 2, inferenceMs: 3, totalMs: 4, perTokenMs: 1.5 },
    ...over,
  };
}

export const prefillToken = (id: number, text: string, logprob: number, topTokens: TokenInfo[] = []): PrefillToken => ({
  id,
  text,
  logprob,
  special: false,
  topTokens,
});

/** A finished choice; only `promptText` of the request is read by the translators. */
export function finished(tokens: TokenEvent[], end: EndEvent, promptText = 'Hi'): Finished {
  return { tokens, end, request: { promptText } as ValidRequest };
}
