// @module The logits rows one request got from a step.
import type { StepResult } from './step-runner.ts';

/** Row k is the request's k-th returned row (its last token's at decode, or each new token's). */
export class StepRows {
  readonly #first: number;

  constructor(
    readonly result: StepResult,
    request: number,
  ) {
    this.#first = result.logitOffsets[request]!;
  }

  row(k: number): Float32Array {
    const V = this.result.vocabSize;
    return this.result.logits.subarray((this.#first + k) * V, (this.#first + k + 1) * V);
  }

  /** log Σ exp of row k when the graph computed it. */
  lse(k: number): number | undefined {
    return this.result.logitsLse?.[this.#first + k];
  }
}
