// Original file: proto/generate.proto

import type { Batch as _tessera_v1_Batch, Batch__Output as _tessera_v1_Batch__Output } from '../../tessera/v1/Batch.ts';

export interface PrefillRequest {
  'batch'?: (_tessera_v1_Batch | null);
}

export interface PrefillRequest__Output {
  'batch': (_tessera_v1_Batch__Output | null);
}
