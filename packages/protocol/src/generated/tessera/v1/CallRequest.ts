// Original file: proto/generate.proto

import type { PrefillRequest as _tessera_v1_PrefillRequest, PrefillRequest__Output as _tessera_v1_PrefillRequest__Output } from '../../tessera/v1/PrefillRequest.ts';
import type { DecodeRequest as _tessera_v1_DecodeRequest, DecodeRequest__Output as _tessera_v1_DecodeRequest__Output } from '../../tessera/v1/DecodeRequest.ts';
import type { FilterBatchRequest as _tessera_v1_FilterBatchRequest, FilterBatchRequest__Output as _tessera_v1_FilterBatchRequest__Output } from '../../tessera/v1/FilterBatchRequest.ts';
import type { ClearCacheRequest as _tessera_v1_ClearCacheRequest, ClearCacheRequest__Output as _tessera_v1_ClearCacheRequest__Output } from '../../tessera/v1/ClearCacheRequest.ts';
import type { Long } from '@grpc/proto-loader';

export interface CallRequest {
  'id'?: (number | string | Long);
  'prefill'?: (_tessera_v1_PrefillRequest | null);
  'decode'?: (_tessera_v1_DecodeRequest | null);
  'filterBatch'?: (_tessera_v1_FilterBatchRequest | null);
  'clearCache'?: (_tessera_v1_ClearCacheRequest | null);
  'call'?: "prefill"|"decode"|"filterBatch"|"clearCache";
}

export interface CallRequest__Output {
  'id': (number);
  'prefill'?: (_tessera_v1_PrefillRequest__Output | null);
  'decode'?: (_tessera_v1_DecodeRequest__Output | null);
  'filterBatch'?: (_tessera_v1_FilterBatchRequest__Output | null);
  'clearCache'?: (_tessera_v1_ClearCacheRequest__Output | null);
  'call'?: "prefill"|"decode"|"filterBatch"|"clearCache";
}
