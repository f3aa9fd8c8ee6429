// Original file: proto/generate.proto

import type { Long } from '@grpc/proto-loader';

export interface FilterBatchRequest {
  'batchId'?: (number | string | Long);
  'requestIds'?: (number | string | Long)[];
}

export interface FilterBatchRequest__Output {
  'batchId': (number);
  'requestIds': (number)[];
}
