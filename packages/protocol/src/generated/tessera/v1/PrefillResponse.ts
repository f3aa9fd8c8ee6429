// Original file: proto/generate.proto

import type { Generation as _tessera_v1_Generation, Generation__Output as _tessera_v1_Generation__Output } from '../../tessera/v1/Generation.ts';
import type { CachedBatch as _tessera_v1_CachedBatch, CachedBatch__Output as _tessera_v1_CachedBatch__Output } from '../../tessera/v1/CachedBatch.ts';
import type { Timings as _tessera_v1_Timings, Timings__Output as _tessera_v1_Timings__Output } from '../../tessera/v1/Timings.ts';

export interface PrefillResponse {
  'generations'?: (_tessera_v1_Generation)[];
  /**
   * Absent when every request finished during prefill.
   */
  'batch'?: (_tessera_v1_CachedBatch | null);
  'timings'?: (_tessera_v1_Timings | null);
}

export interface PrefillResponse__Output {
  'generations': (_tessera_v1_Generation__Output)[];
  /**
   * Absent when every request finished during prefill.
   */
  'batch': (_tessera_v1_CachedBatch__Output | null);
  'timings': (_tessera_v1_Timings__Output | null);
}
