// @module The logits rows one request got from a step.
import type { TopLogits } from '../sampler/sampler.ts';
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
    const { logits, vocabSize: V } = this.result;
    if (logits === null) throw new Error('the step fetched only the top logits of each row, not whole rows');
    return logits.subarray((this.#first + k) * V, (this.#first + k + 1) * V);
  }

  /** Row k's highest logits and their ids, when the step fetched only those (else null: use row()). */
  top(k: number): TopLogits | null {
    const top = this.result.top;
    if (top === null) return null;
    const at = (this.#first + k) * top.k;
    return { k: top.k, logits: top.logits.subarray(at, at + top.k), ids: top.ids.subarray(at, at + top.k) };
  }

  /** log Σ exp of row k when the graph computed it. */
  lse(k: number): number | undefined {
    return this.result.logitsLse?.[this.#first + k];
  }
}
