// Original file: proto/generate.proto

import type { CachedBatch as _tessera_v1_CachedBatch, CachedBatch__Output as _tessera_v1_CachedBatch__Output } from '../../tessera/v1/CachedBatch.ts';

export interface FilterBatchResponse {
  'batch'?: (_tessera_v1_CachedBatch | null);
}

export interface FilterBatchResponse__Output {
  'batch': (_tessera_v1_CachedBatch__Output | null);
}
