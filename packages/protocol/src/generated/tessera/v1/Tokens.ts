// Original file: proto/generate.proto


export interface Tokens {
  'ids'?: (number)[];
  'logprobs'?: (number | string)[];
}

export interface Tokens__Output {
  'ids': (number)[];
  'logprobs': (number)[];
}
