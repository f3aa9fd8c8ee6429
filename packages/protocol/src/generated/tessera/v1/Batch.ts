// Original file: proto/generate.proto

import type { Request as _tessera_v1_Request, Request__Output as _tessera_v1_Request__Output } from '../../tessera/v1/Request.ts';
import type { Long } from '@grpc/proto-loader';

export interface Batch {
  'id'?: (number | string | Long);
  'requests'?: (_tessera_v1_Request)[];
  'size'?: (number);
  /**
   * Tokens the batch may hold at most (KV slots reserved).
   */
  'maxTokens'?: (number);
}

export interface Batch__Output {
  'id': (number);
  'requests': (_tessera_v1_Request__Output)[];
  'size': (number);
  /**
   * Tokens the batch may hold at most (KV slots reserved).
   */
  'maxTokens': (number);
}
