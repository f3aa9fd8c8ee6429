// Original file: proto/generate.proto

import type { Long } from '@grpc/proto-loader';

export interface InfoResponse {
  'modelId'?: (string);
  /**
   * Architecture as in config.json, e.g. "LlamaForCausalLM".
   */
  'architecture'?: (string);
  'dtype'?: (string);
  'deviceType'?: (string);
  'vocabSize'?: (number);
  'maxPositionEmbeddings'?: (number);
  /**
   * Tokens per KV block; the router allocates blocks in these units.
   */
  'blockSize'?: (number);
  'rank'?: (number);
  'worldSize'?: (number);
  'numLayers'?: (number);
  'numKvHeads'?: (number);
  'headDim'?: (number);
  /**
   * Random per shard process (set at start-up): a new value means the shard restarted and lost its
   * KV cache and batches; the router then re-runs Warmup before sending it work again.
   */
  'instanceId'?: (string);
  /**
   * How the weights are stored, tensors per type: "Q4_K×13, Q6_K×3, F32×5" (numbers from 20 on,
   * leaving room for lifecycle fields).
   */
  'weightTypes'?: (string);
  /**
   * Whether any matrix runs quantized (MatMulNBits), and the bytes of this rank's weights as executed.
   */
  'quantized'?: (boolean);
  'weightBytes'?: (number | string | Long);
  /**
   * The sliding window (tokens) when every layer attends within one (Mistral v0.1, Phi-3-mini-4k),
   * else 0 (full attention, or global layers as in Gemma). When set, the router releases the KV
   * blocks behind the window early, and the shard never reads a block wholly behind it (its
   * block-table entries point at a block still in the window, masked anyway).
   */
  'slidingWindowAllLayers'?: (number);
  /**
   * Speculative decoding: draft tokens proposed per decode step (--speculate; 0 = off).
   */
  'speculate'?: (number);
}

export interface InfoResponse__Output {
  'modelId': (string);
  /**
   * Architecture as in config.json, e.g. "LlamaForCausalLM".
   */
  'architecture': (string);
  'dtype': (string);
  'deviceType': (string);
  'vocabSize': (number);
  'maxPositionEmbeddings': (number);
  /**
   * Tokens per KV block; the router allocates blocks in these units.
   */
  'blockSize': (number);
  'rank': (number);
  'worldSize': (number);
  'numLayers': (number);
  'numKvHeads': (number);
  'headDim': (number);
  /**
   * Random per shard process (set at start-up): a new value means the shard restarted and lost its
   * KV cache and batches; the router then re-runs Warmup before sending it work again.
   */
  'instanceId': (string);
  /**
   * How the weights are stored, tensors per type: "Q4_K×13, Q6_K×3, F32×5" (numbers from 20 on,
   * leaving room for lifecycle fields).
   */
  'weightTypes': (string);
  /**
   * Whether any matrix runs quantized (MatMulNBits), and the bytes of this rank's weights as executed.
   */
  'quantized': (boolean);
  'weightBytes': (number);
  /**
   * The sliding window (tokens) when every layer attends within one (Mistral v0.1, Phi-3-mini-4k),
   * else 0 (full attention, or global layers as in Gemma). When set, the router releases the KV
   * blocks behind the window early, and the shard never reads a block wholly behind it (its
   * block-table entries point at a block still in the window, masked anyway).
   */
  'slidingWindowAllLayers': (number);
  /**
   * Speculative decoding: draft tokens proposed per decode step (--speculate; 0 = off).
   */
  'speculate': (number);
}
