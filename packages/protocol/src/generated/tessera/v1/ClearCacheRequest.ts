// Original file: proto/generate.proto

import type { Long } from '@grpc/proto-loader';

export interface ClearCacheRequest {
  'id'?: (number | string | Long);
  '_id'?: "id";
}

export interface ClearCacheRequest__Output {
  'id'?: (number);
  '_id'?: "id";
}
