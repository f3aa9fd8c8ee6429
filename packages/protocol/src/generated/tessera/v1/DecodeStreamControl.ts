// Original file: proto/generate.proto

import type { CachedBatch as _tessera_v1_CachedBatch, CachedBatch__Output as _tessera_v1_CachedBatch__Output } from '../../tessera/v1/CachedBatch.ts';
import type { Long } from '@grpc/proto-loader';

export interface DecodeStreamControl {
  /**
   * First message only: the batches to decode.
   */
  'batches'?: (_tessera_v1_CachedBatch)[];
  /**
   * Requests to leave the batch before the next step the shard starts.
   */
  'dropRequestIds'?: (number | string | Long)[];
  /**
   * End the loop after the step in flight.
   */
  'stop'?: (boolean);
}

export interface DecodeStreamControl__Output {
  /**
   * First message only: the batches to decode.
   */
  'batches': (_tessera_v1_CachedBatch__Output)[];
  /**
   * Requests to leave the batch before the next step the shard starts.
   */
  'dropRequestIds': (number)[];
  /**
   * End the loop after the step in flight.
   */
  'stop': (boolean);
}
