// Original file: proto/generate.proto


export interface CallError {
  'code'?: (number);
  'message'?: (string);
}

export interface CallError__Output {
  'code': (number);
  'message': (string);
}
