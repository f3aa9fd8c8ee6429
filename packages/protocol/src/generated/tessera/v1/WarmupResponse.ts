// Original file: proto/generate.proto

import type { Long } from '@grpc/proto-loader';

export interface WarmupResponse {
  /**
   * KV capacity in tokens (num_blocks * block_size).
   */
  'maxSupportedTotalTokens'?: (number);
  'numBlocks'?: (number);
  'blockSize'?: (number);
  /**
   * Bytes of KV cache allocated on this shard.
   */
  'kvCacheBytes'?: (number | string | Long);
}

export interface WarmupResponse__Output {
  /**
   * KV capacity in tokens (num_blocks * block_size).
   */
  'maxSupportedTotalTokens': (number);
  'numBlocks': (number);
  'blockSize': (number);
  /**
   * Bytes of KV cache allocated on this shard.
   */
  'kvCacheBytes': (number);
}
