// @module Token-level stopping: stop token ids (after min_new_tokens) and max_new_tokens.
import type { FinishReason, StoppingCriteriaParameters } from '@tessera/protocol';

export class StoppingCriteria {
  readonly stopTokenIds: ReadonlySet<number>;
  readonly maxNewTokens: number;
  readonly minNewTokens: number;

  constructor(p: StoppingCriteriaParameters) {
    this.stopTokenIds = new Set(p.stopTokenIds ?? []);
    // 0 (unset) still yields the one token a prefill always produces.
    this.maxNewTokens = Math.max(1, p.maxNewTokens ?? 0);
    this.minNewTokens = p.minNewTokens ?? 0;
  }

  /** Stop ids are forbidden while fewer than min_new_tokens have been generated. */
  suppressStops(generatedSoFar: number): boolean {
    return generatedSoFar < this.minNewTokens && this.stopTokenIds.size > 0;
  }

  /** Verdict after `token` became the `generated`-th generated token. */
  check(token: number, generated: number): FinishReason {
    if (this.stopTokenIds.has(token) && generated >= this.minNewTokens) return 'FINISH_REASON_EOS_TOKEN';
    if (generated >= this.maxNewTokens) return 'FINISH_REASON_LENGTH';
    return 'FINISH_REASON_UNSPECIFIED';
  }
}
