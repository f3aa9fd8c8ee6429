// @module What the shard engine needs from a model runner: a step over a batch, warm-up, and the rank-0 choice channel.
import type { ModelConfig } from '@tessera/model-files';
import type { ComputeType } from '../graph/step-io.ts';
import type { TopLogits } from '../sampler/sampler.ts';
import type { Batch } from './batch.ts';
import type { Device } from './execution-provider.ts';
import type { KvGeometry, KvPools } from './kv-cache.ts';

export interface StepResult {
  /** [rows, vocab] logits of the requested rows; null when the step fetched only their top-k (`top`). */
  logits: Float32Array | null;
  /** Each row's k highest logits (descending, ties to the lower id) and their ids, when the step fetched those. */
  top: TopLogits | null;
  vocabSize: number;
  /** Per row, log Σ exp(logits) when the graph computes it (world size 1); else null. */
  logitsLse: Float32Array | null;
  /** Per sequence, its first row in `logits`. */
  logitOffsets: number[];
  forwardNs: number;
  computedTokens: number;
}

/**
 * Tensor parallel: how rank 0's chosen ids reach the other ranks (a ProcessGroup). Rank 0 passes the
 * ids, the others pass null and receive them.
 */
export interface ChoiceChannel {
  readonly rank: number;
  broadcastInt32(values: Int32Array | null): Promise<Int32Array>;
}

/** Implemented by ModelRunner; tests drive the engine with fake logits through it. */
export interface StepRunner {
  readonly config: ModelConfig;
  readonly dtype: ComputeType;
  readonly device: Device;
  readonly blockSize: number;
  readonly geometry: KvGeometry;
  /** The tensor-parallel group, or null at world size 1. */
  readonly group: ChoiceChannel | null;
  /** Sizes activations with a `budgetTokens` step, then allocates `numBlocks` KV blocks. */
  warmup(budgetTokens: number, numBlocks: number): Promise<KvPools>;
  /** Computes each request's pending prompt suffix (every row's logits where prompt logprobs are asked). */
  prefill(batch: Batch): Promise<StepResult>;
  /** Computes the pending token of each request; with a draft (speculative decoding), every row's logits. */
  decode(batch: Batch): Promise<StepResult>;
}
