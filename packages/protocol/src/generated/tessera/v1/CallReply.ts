// Original file: proto/generate.proto

import type { PrefillResponse as _tessera_v1_PrefillResponse, PrefillResponse__Output as _tessera_v1_PrefillResponse__Output } from '../../tessera/v1/PrefillResponse.ts';
import type { DecodeResponse as _tessera_v1_DecodeResponse, DecodeResponse__Output as _tessera_v1_DecodeResponse__Output } from '../../tessera/v1/DecodeResponse.ts';
import type { FilterBatchResponse as _tessera_v1_FilterBatchResponse, FilterBatchResponse__Output as _tessera_v1_FilterBatchResponse__Output } from '../../tessera/v1/FilterBatchResponse.ts';
import type { ClearCacheResponse as _tessera_v1_ClearCacheResponse, ClearCacheResponse__Output as _tessera_v1_ClearCacheResponse__Output } from '../../tessera/v1/ClearCacheResponse.ts';
import type { CallError as _tessera_v1_CallError, CallError__Output as _tessera_v1_CallError__Output } from '../../tessera/v1/CallError.ts';
import type { Long } from '@grpc/proto-loader';

export interface CallReply {
  'id'?: (number | string | Long);
  'prefill'?: (_tessera_v1_PrefillResponse | null);
  'decode'?: (_tessera_v1_DecodeResponse | null);
  'filterBatch'?: (_tessera_v1_FilterBatchResponse | null);
  'clearCache'?: (_tessera_v1_ClearCacheResponse | null);
  /**
   * The call failed: the gRPC status code its unary form would have ended with, and the message.
   */
  'error'?: (_tessera_v1_CallError | null);
  'reply'?: "prefill"|"decode"|"filterBatch"|"clearCache"|"error";
}

export interface CallReply__Output {
  'id': (number);
  'prefill'?: (_tessera_v1_PrefillResponse__Output | null);
  'decode'?: (_tessera_v1_DecodeResponse__Output | null);
  'filterBatch'?: (_tessera_v1_FilterBatchResponse__Output | null);
  'clearCache'?: (_tessera_v1_ClearCacheResponse__Output | null);
  /**
   * The call failed: the gRPC status code its unary form would have ended with, and the message.
   */
  'error'?: (_tessera_v1_CallError__Output | null);
  'reply'?: "prefill"|"decode"|"filterBatch"|"clearCache"|"error";
}
