// Original file: proto/generate.proto

import type { NextTokenChooserParameters as _tessera_v1_NextTokenChooserParameters, NextTokenChooserParameters__Output as _tessera_v1_NextTokenChooserParameters__Output } from '../../tessera/v1/NextTokenChooserParameters.ts';
import type { StoppingCriteriaParameters as _tessera_v1_StoppingCriteriaParameters, StoppingCriteriaParameters__Output as _tessera_v1_StoppingCriteriaParameters__Output } from '../../tessera/v1/StoppingCriteriaParameters.ts';
import type { Long } from '@grpc/proto-loader';

export interface Request {
  'id'?: (number | string | Long);
  /**
   * The whole prompt, already tokenized (special tokens included).
   */
  'inputIds'?: (number)[];
  'parameters'?: (_tessera_v1_NextTokenChooserParameters | null);
  'stoppingParameters'?: (_tessera_v1_StoppingCriteriaParameters | null);
  /**
   * Return logprobs of the prompt tokens.
   */
  'prefillLogprobs'?: (boolean);
  'topNTokens'?: (number);
  /**
   * KV blocks (ids into the shard's pool) that cover prompt + max_new_tokens, in order.
   */
  'blocks'?: (number)[];
  /**
   * Leading prompt tokens whose KV already sits in `blocks` (prefix cache hit, or chunks computed by
   * earlier Prefill calls): not recomputed.
   */
  'cacheLen'?: (number);
  /**
   * Chunked prefill: compute only input_ids[cache_len : cache_len + chunk_len] in this call (0 = the
   * whole rest of the prompt). While the prompt is not complete the shard samples nothing: the
   * request's Generation has no tokens and the request is NOT kept in the returned CachedBatch; the
   * router sends it again in a later Prefill with cache_len advanced (TGI v3's chunk_len).
   */
  'chunkLen'?: (number);
}

export interface Request__Output {
  'id': (number);
  /**
   * The whole prompt, already tokenized (special tokens included).
   */
  'inputIds': (number)[];
  'parameters': (_tessera_v1_NextTokenChooserParameters__Output | null);
  'stoppingParameters': (_tessera_v1_StoppingCriteriaParameters__Output | null);
  /**
   * Return logprobs of the prompt tokens.
   */
  'prefillLogprobs': (boolean);
  'topNTokens': (number);
  /**
   * KV blocks (ids into the shard's pool) that cover prompt + max_new_tokens, in order.
   */
  'blocks': (number)[];
  /**
   * Leading prompt tokens whose KV already sits in `blocks` (prefix cache hit, or chunks computed by
   * earlier Prefill calls): not recomputed.
   */
  'cacheLen': (number);
  /**
   * Chunked prefill: compute only input_ids[cache_len : cache_len + chunk_len] in this call (0 = the
   * whole rest of the prompt). While the prompt is not complete the shard samples nothing: the
   * request's Generation has no tokens and the request is NOT kept in the returned CachedBatch; the
   * router sends it again in a later Prefill with cache_len advanced (TGI v3's chunk_len).
   */
  'chunkLen': (number);
}
