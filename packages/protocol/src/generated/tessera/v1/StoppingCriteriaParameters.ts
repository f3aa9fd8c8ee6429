// Original file: proto/generate.proto


export interface StoppingCriteriaParameters {
  'maxNewTokens'?: (number);
  /**
   * Token ids that end generation (EOS ids are included by the router unless ignore_eos).
   */
  'stopTokenIds'?: (number)[];
  /**
   * EOS / stop ids are not honoured before this many tokens.
   */
  'minNewTokens'?: (number);
}

export interface StoppingCriteriaParameters__Output {
  'maxNewTokens': (number);
  /**
   * Token ids that end generation (EOS ids are included by the router unless ignore_eos).
   */
  'stopTokenIds': (number)[];
  /**
   * EOS / stop ids are not honoured before this many tokens.
   */
  'minNewTokens': (number);
}
