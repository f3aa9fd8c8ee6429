// @module One request's new tokens from a step: sampled (rank 0) or received (other ranks), speculative drafts verified, stops applied in order.
import type { FinishReason } from '@tessera/protocol';
import type { Choice } from '../sampler/sampler.ts';
import type { RequestState } from './batch.ts';
import type { StepRows } from './step-rows.ts';

export interface AcceptedTokens {
  /** The tokens the request took this step, in order (logprobs and top-n on rank 0 only). */
  choices: Choice[];
  finishReason: FinishReason;
  /** How many of them were draft tokens the model accepted. */
  acceptedDraft: number;
}

/**
 * Every rank: takes the request's tokens for this step and applies each in turn (so penalties,
 * min_new_tokens and stop ids see them one by one; a stop or length inside the run ends it there).
 * Rank 0 chooses from the rows: without a draft, one token from row `first`; with a draft d
 * (rows 0..k, the last token's then each draft token's), row i verifies d[i] and the run ends at the
 * first token that differs from the draft, or after one more token from the last row when all of it
 * was accepted, so a step always yields at least one token. The other ranks apply rank 0's `chosen`.
 */
export function acceptTokens(r: RequestState, rows: StepRows, first: number, chosen: readonly number[] | null, blockSize: number): AcceptedTokens {
  const draft = r.draft;
  r.draft = [];
  const choices: Choice[] = [];
  let acceptedDraft = 0;
  let finishReason: FinishReason = 'FINISH_REASON_UNSPECIFIED';
  while (finishReason === 'FINISH_REASON_UNSPECIFIED') {
    const i = choices.length;
    if (chosen !== null && i >= chosen.length) break;
    const proposed = draft[i];
    const choice = chosen !== null ? received(chosen[i]!) : choose(r, rows, first + i, proposed);
    choices.push(choice);
    const accepted = proposed === choice.id && acceptedDraft === i;
    if (accepted) acceptedDraft++;
    finishReason = applyChoice(r, choice.id, blockSize);
    if (chosen === null && !accepted) break;
  }
  return { choices, finishReason, acceptedDraft };
}

const received = (id: number): Choice => ({ id, logprob: 0, top: { ids: [], logprobs: [] } });

/** Rank 0: the token from row `k`, verifying `proposed` when there is one (stop ids forbidden before min_new_tokens). */
function choose(r: RequestState, rows: StepRows, k: number, proposed: number | undefined): Choice {
  // The step fetched only each row's top logits (logit-selection.ts): greedy, so verifying is choosing.
  const top = rows.top(k);
  const lse = rows.lse(k);
  if (top !== null && lse !== undefined) return r.chooser.chooseFromTop(top, r.topNTokens, lse);
  const forbidden = r.stopping.suppressStops(r.generated) ? r.stopping.stopTokenIds : [];
  if (proposed === undefined) return r.chooser.choose(rows.row(k), r.topNTokens, forbidden, rows.lse(k), r.mask);
  return r.chooser.verify(rows.row(k), proposed, r.topNTokens, forbidden, rows.lse(k));
}

/** Every rank: appends the chosen token and decides whether the request stops. */
function applyChoice(r: RequestState, id: number, blockSize: number): FinishReason {
  r.computed = r.tokens.length;
  r.tokens.push(id);
  r.chooser.accept(id);
  r.generated++;
  // Rank 0 of a constrained request: the mask allowed `id`, so the grammar takes it (else a bug).
  if (r.matcher !== null && !r.matcher.accept(id)) throw new Error(`request ${r.id}: the grammar refused token ${id} that its mask allowed`);
  r.mask = null;
  const reason = r.stopping.check(id, r.generated);
  // The next step must write this token's K/V: stop when the reserved blocks are full.
  if (reason === 'FINISH_REASON_UNSPECIFIED' && r.tokens.length > r.capacity(blockSize)) return 'FINISH_REASON_LENGTH';
  return reason;
}
