// Original file: proto/generate.proto

import type { CachedBatch as _tessera_v1_CachedBatch, CachedBatch__Output as _tessera_v1_CachedBatch__Output } from '../../tessera/v1/CachedBatch.ts';

export interface DecodeRequest {
  'batches'?: (_tessera_v1_CachedBatch)[];
}

export interface DecodeRequest__Output {
  'batches': (_tessera_v1_CachedBatch__Output)[];
}
