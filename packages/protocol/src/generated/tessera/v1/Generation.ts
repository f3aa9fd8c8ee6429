// Original file: proto/generate.proto

import type { Tokens as _tessera_v1_Tokens, Tokens__Output as _tessera_v1_Tokens__Output } from '../../tessera/v1/Tokens.ts';
import type { FinishReason as _tessera_v1_FinishReason, FinishReason__Output as _tessera_v1_FinishReason__Output } from '../../tessera/v1/FinishReason.ts';
import type { Long } from '@grpc/proto-loader';

export interface Generation {
  'requestId'?: (number | string | Long);
  /**
   * Prompt tokens with their logprobs, only when prefill_logprobs was asked.
   */
  'prefillTokens'?: (_tessera_v1_Tokens | null);
  /**
   * The token(s) chosen this step; empty for a request whose prompt chunk did not reach its end.
   */
  'tokens'?: (_tessera_v1_Tokens | null);
  /**
   * The top_n_tokens most likely tokens, one Tokens per chosen token.
   */
  'topTokens'?: (_tessera_v1_Tokens)[];
  /**
   * Set when the request is finished on the shard (length, EOS or stop token).
   */
  'finishReason'?: (_tessera_v1_FinishReason);
  'generatedTokens'?: (number);
  /**
   * Seed actually used by the sampler.
   */
  'seed'?: (number | string | Long);
  /**
   * With prefill_tokens and top_n_tokens: the top_n_tokens alternatives at each prompt position
   * (empty where no logprob was computed, e.g. the first prompt token).
   */
  'prefillTopTokens'?: (_tessera_v1_Tokens)[];
}

export interface Generation__Output {
  'requestId': (number);
  /**
   * Prompt tokens with their logprobs, only when prefill_logprobs was asked.
   */
  'prefillTokens': (_tessera_v1_Tokens__Output | null);
  /**
   * The token(s) chosen this step; empty for a request whose prompt chunk did not reach its end.
   */
  'tokens': (_tessera_v1_Tokens__Output | null);
  /**
   * The top_n_tokens most likely tokens, one Tokens per chosen token.
   */
  'topTokens': (_tessera_v1_Tokens__Output)[];
  /**
   * Set when the request is finished on the shard (length, EOS or stop token).
   */
  'finishReason': (_tessera_v1_FinishReason__Output);
  'generatedTokens': (number);
  /**
   * Seed actually used by the sampler.
   */
  'seed': (number);
  /**
   * With prefill_tokens and top_n_tokens: the top_n_tokens alternatives at each prompt position
   * (empty where no logprob was computed, e.g. the first prompt token).
   */
  'prefillTopTokens': (_tessera_v1_Tokens__Output)[];
}
