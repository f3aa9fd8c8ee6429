// @module The step graph's contract with the runner: input/output names, element types and KV layouts.

/** Names of the step graph's inputs and outputs, shared by every graph builder and the runner that feeds them. */
export const STEP_IO = {
  inputIds: 'input_ids',
  positionIds: 'position_ids',
  attentionBias: 'attention_bias',
  blockTable: 'block_table',
  logitRows: 'logit_rows',
  logits: 'logits',
  /** log Σ exp(logits) per row (world size 1): sampling then needs no 32k-wide exp pass in JS. */
  logitsLse: 'logits_lse',
  /**
   * World size 1: how many of each row's highest logits the graph selects ([1]; 0 selects none), and those
   * logits [R, k] (descending, ties to the lower id) with their ids. A step whose requests only take
   * the argmax and top-n (greedy, no penalties) fetches these instead of the [R, V] logits.
   */
  topK: 'top_k',
  topLogits: 'top_logits',
  topIds: 'top_ids',
  kCache: (l: number) => `k_cache_${l}`,
  vCache: (l: number) => `v_cache_${l}`,
  newK: (l: number) => `new_k_${l}`,
  newV: (l: number) => `new_v_${l}`,
  /** Device-resident KV: 0 … blockSize − 1 [blockSize]; with block_table the graph derives every past slot. */
  blockOffsets: 'block_offsets',
  /** Device-resident KV: the computed rows (b·S + s) whose K/V are written, and their slots [R, 1]. */
  writeRows: 'write_rows',
  writeSlots: 'write_slots',
  /** Device-resident KV: the pools after this step's writes, bound to the input pools (in place). */
  kCacheOut: (l: number) => `k_cache_out_${l}`,
  vCacheOut: (l: number) => `v_cache_out_${l}`,
} as const;

/** Element type of activations, weights and the KV cache. Norms, softmax and logits are float32 either way. */
export type ComputeType = 'float32' | 'float16';

/**
 * Where the KV pools live. `host`: pools [kvH, blocks, blockSize, D] are fed each step and the graph
 * returns the new rows (new_k/new_v) for the host to write. `device`: pools [slots, kvH, D] stay
 * on the accelerator and the graph writes the new rows itself (ScatterND into k/v_cache_out_l, which
 * the runner binds to the input pools so the update happens in place).
 */
export type KvLayout = 'host' | 'device';
