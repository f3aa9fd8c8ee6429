// Original file: proto/generate.proto

import type { Long } from '@grpc/proto-loader';

export interface Timings {
  'forwardNs'?: (number | string | Long);
  'sampleNs'?: (number | string | Long);
  'totalNs'?: (number | string | Long);
  /**
   * Tokens computed by the model in this step (prefill suffix or decode batch).
   */
  'computedTokens'?: (number);
  /**
   * Speculative decoding (--speculate): draft tokens this step verified, and how many the model accepted.
   */
  'draftTokens'?: (number);
  'acceptedDraftTokens'?: (number);
  /**
   * Constrained decoding: wall time spent computing this step's grammar masks (rank 0), which runs
   * beside the forward pass; 0 when no request in the step is constrained.
   */
  'grammarMaskNs'?: (number | string | Long);
}

export interface Timings__Output {
  'forwardNs': (number);
  'sampleNs': (number);
  'totalNs': (number);
  /**
   * Tokens computed by the model in this step (prefill suffix or decode batch).
   */
  'computedTokens': (number);
  /**
   * Speculative decoding (--speculate): draft tokens this step verified, and how many the model accepted.
   */
  'draftTokens': (number);
  'acceptedDraftTokens': (number);
  /**
   * Constrained decoding: wall time spent computing this step's grammar masks (rank 0), which runs
   * beside the forward pass; 0 when no request in the step is constrained.
   */
  'grammarMaskNs': (number);
}
