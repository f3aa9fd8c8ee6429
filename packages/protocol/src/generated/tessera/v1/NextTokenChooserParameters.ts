// Original file: proto/generate.proto

import type { Long } from '@grpc/proto-loader';

export interface NextTokenChooserParameters {
  /**
   * 0 means greedy (argmax) unless do_sample is set.
   */
  'temperature'?: (number | string);
  'topK'?: (number);
  'topP'?: (number | string);
  'typicalP'?: (number | string);
  'doSample'?: (boolean);
  'seed'?: (number | string | Long);
  'repetitionPenalty'?: (number | string);
  'frequencyPenalty'?: (number | string);
  'presencePenalty'?: (number | string);
  'minP'?: (number | string);
  'logitBias'?: ({[key: number]: number | string});
  /**
   * Constrained decoding (empty = none): an xgrammar structural tag as JSON (@tessera/grammar), built
   * and checked by the router. Rank 0 masks the logits with it; every rank skips speculation for it.
   */
  'grammar'?: (string);
}

export interface NextTokenChooserParameters__Output {
  /**
   * 0 means greedy (argmax) unless do_sample is set.
   */
  'temperature': (number);
  'topK': (number);
  'topP': (number);
  'typicalP': (number);
  'doSample': (boolean);
  'seed': (number);
  'repetitionPenalty': (number);
  'frequencyPenalty': (number);
  'presencePenalty': (number);
  'minP': (number);
  'logitBias': ({[key: number]: number});
  /**
   * Constrained decoding (empty = none): an xgrammar structural tag as JSON (@tessera/grammar), built
   * and checked by the router. Rank 0 masks the logits with it; every rank skips speculation for it.
   */
  'grammar': (string);
}
