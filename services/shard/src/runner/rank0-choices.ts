// @module Tensor parallel: rank 0's choices of one step as the int32 words it broadcasts to the other ranks, and back.
import type { DecodeStreamControl } from '@tessera/protocol';

/**
 * The words: per request its chosen ids, then (continuous decode) the step's control
 * [stop, ...dropped request ids]. Without speculation each request has exactly one word, its id or
 * -1 for none (a prompt chunk); with speculation a request may take several tokens, so each is
 * written as a count followed by that many ids.
 */
export function encodeChoices(ids: readonly (readonly number[])[], speculative: boolean, control: DecodeStreamControl | null): Int32Array {
  const words: number[] = [];
  for (const own of ids) {
    if (speculative) words.push(own.length, ...own);
    else words.push(own[0] ?? -1);
  }
  if (control !== null) words.push(control.stop ? 1 : 0, ...control.dropRequestIds);
  return Int32Array.from(words);
}

export interface DecodedChoices {
  ids: number[][];
  /** The control after the ids when the words carry one, else null. */
  control: DecodeStreamControl | null;
}

/** encodeChoices read back for `requests` requests; `withControl` when a continuous decode sent them. */
export function decodeChoices(words: Int32Array, requests: number, speculative: boolean, withControl: boolean): DecodedChoices {
  const ids: number[][] = [];
  let at = 0;
  for (let i = 0; i < requests; i++) {
    if (speculative) {
      const n = words[at++]!;
      ids.push(Array.from(words.subarray(at, at + n)));
      at += n;
    } else {
      const id = words[at++]!;
      ids.push(id < 0 ? [] : [id]);
    }
  }
  if (at > words.length) throw new Error(`rank 0 sent ${words.length} words for ${requests} requests`);
  const rest = words.subarray(at);
  return { ids, control: withControl ? { stop: rest[0] === 1, dropRequestIds: Array.from(rest.subarray(1)) } : null };
}
