// Original file: proto/generate.proto

import type { Long } from '@grpc/proto-loader';

export interface CachedBatch {
  'id'?: (number | string | Long);
  'requestIds'?: (number | string | Long)[];
  'size'?: (number);
  'maxTokens'?: (number);
}

export interface CachedBatch__Output {
  'id': (number);
  'requestIds': (number)[];
  'size': (number);
  'maxTokens': (number);
}
