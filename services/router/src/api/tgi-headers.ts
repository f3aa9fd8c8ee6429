// @module TGI's response headers: timings of /generate (x-compute-time … x-generated-tokens) and what streams get up front.
import type { EndEvent } from '../infer/events.ts';

/** Times a request from its arrival at the route; validation ends when the request is queued. */
export class RequestClock {
  readonly #start = performance.now();
  #validated: number | null = null;

  /** The request passed validation and is queued. */
  validated(): void {
    this.#validated ??= performance.now();
  }

  /** Headers of a finished /generate (TGI router/src/server.rs: seconds for x-compute-time, else whole ms). */
  generateHeaders(end: EndEvent, computeType: string, characters: number): Record<string, string> {
    const now = performance.now();
    const total = now - this.#start;
    const validation = (this.#validated ?? now) - this.#start;
    const inference = end.timings.inferenceMs;
    // The batcher's queue time runs from Infer's arrival, which includes validation.
    const queue = Math.max(0, total - validation - inference);
    const ms = (x: number) => String(Math.max(0, Math.floor(x)));
    return {
      'x-compute-type': computeType,
      'x-compute-time': String(total / 1000),
      'x-compute-characters': String(characters),
      'x-total-time': ms(total),
      'x-validation-time': ms(validation),
      'x-queue-time': ms(queue),
      'x-inference-time': ms(inference),
      'x-time-per-token': ms(end.generatedTokens > 0 ? inference / end.generatedTokens : 0),
      'x-prompt-tokens': String(end.inputLength),
      'x-generated-tokens': String(end.generatedTokens),
    };
  }
}

/** What TGI sends on /generate_stream before the first event. */
export function streamHeaders(computeType: string, characters: number): Record<string, string> {
  return { 'x-compute-type': computeType, 'x-compute-characters': String(characters) };
}

/** TGI counts the characters of `inputs` (Unicode scalar values). */
export function computeCharacters(inputs: unknown): number {
  if (typeof inputs !== 'string') return 0;
  // Code points without spreading the string into an array (a 1 MiB prompt would allocate 1 M strings).
  let pairs = 0;
  for (let i = 0; i < inputs.length; i++) {
    const c = inputs.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0 && (inputs.charCodeAt(i - 1) & 0xfc00) === 0xd800) pairs++;
  }
  return inputs.length - pairs;
}
