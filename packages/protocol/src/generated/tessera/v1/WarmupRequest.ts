// Original file: proto/generate.proto


export interface WarmupRequest {
  /**
   * Largest prefill the router will ever send in one call (tokens).
   */
  'maxBatchPrefillTokens'?: (number);
  /**
   * Largest prompt + generation of a single request (tokens).
   */
  'maxTotalTokens'?: (number);
  /**
   * Most requests in one batch.
   */
  'maxBatchSize'?: (number);
  /**
   * When > 0: allocate exactly this many KV blocks instead of sizing from memory. The router sends it
   * when it re-warms a restarted shard, so the pool matches the block accounting it already holds.
   */
  'numBlocks'?: (number);
}

export interface WarmupRequest__Output {
  /**
   * Largest prefill the router will ever send in one call (tokens).
   */
  'maxBatchPrefillTokens': (number);
  /**
   * Largest prompt + generation of a single request (tokens).
   */
  'maxTotalTokens': (number);
  /**
   * Most requests in one batch.
   */
  'maxBatchSize': (number);
  /**
   * When > 0: allocate exactly this many KV blocks instead of sizing from memory. The router sends it
   * when it re-warms a restarted shard, so the pool matches the block accounting it already holds.
   */
  'numBlocks': (number);
}
