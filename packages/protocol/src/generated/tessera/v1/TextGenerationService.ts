// Original file: proto/generate.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CallReply as _tessera_v1_CallReply, CallReply__Output as _tessera_v1_CallReply__Output } from '../../tessera/v1/CallReply.ts';
import type { CallRequest as _tessera_v1_CallRequest, CallRequest__Output as _tessera_v1_CallRequest__Output } from '../../tessera/v1/CallRequest.ts';
import type { ClearCacheRequest as _tessera_v1_ClearCacheRequest, ClearCacheRequest__Output as _tessera_v1_ClearCacheRequest__Output } from '../../tessera/v1/ClearCacheRequest.ts';
import type { ClearCacheResponse as _tessera_v1_ClearCacheResponse, ClearCacheResponse__Output as _tessera_v1_ClearCacheResponse__Output } from '../../tessera/v1/ClearCacheResponse.ts';
import type { DecodeRequest as _tessera_v1_DecodeRequest, DecodeRequest__Output as _tessera_v1_DecodeRequest__Output } from '../../tessera/v1/DecodeRequest.ts';
import type { DecodeResponse as _tessera_v1_DecodeResponse, DecodeResponse__Output as _tessera_v1_DecodeResponse__Output } from '../../tessera/v1/DecodeResponse.ts';
import type { DecodeStreamControl as _tessera_v1_DecodeStreamControl, DecodeStreamControl__Output as _tessera_v1_DecodeStreamControl__Output } from '../../tessera/v1/DecodeStreamControl.ts';
import type { FilterBatchRequest as _tessera_v1_FilterBatchRequest, FilterBatchRequest__Output as _tessera_v1_FilterBatchRequest__Output } from '../../tessera/v1/FilterBatchRequest.ts';
import type { FilterBatchResponse as _tessera_v1_FilterBatchResponse, FilterBatchResponse__Output as _tessera_v1_FilterBatchResponse__Output } from '../../tessera/v1/FilterBatchResponse.ts';
import type { HealthRequest as _tessera_v1_HealthRequest, HealthRequest__Output as _tessera_v1_HealthRequest__Output } from '../../tessera/v1/HealthRequest.ts';
import type { HealthResponse as _tessera_v1_HealthResponse, HealthResponse__Output as _tessera_v1_HealthResponse__Output } from '../../tessera/v1/HealthResponse.ts';
import type { InfoRequest as _tessera_v1_InfoRequest, InfoRequest__Output as _tessera_v1_InfoRequest__Output } from '../../tessera/v1/InfoRequest.ts';
import type { InfoResponse as _tessera_v1_InfoResponse, InfoResponse__Output as _tessera_v1_InfoResponse__Output } from '../../tessera/v1/InfoResponse.ts';
import type { PrefillRequest as _tessera_v1_PrefillRequest, PrefillRequest__Output as _tessera_v1_PrefillRequest__Output } from '../../tessera/v1/PrefillRequest.ts';
import type { PrefillResponse as _tessera_v1_PrefillResponse, PrefillResponse__Output as _tessera_v1_PrefillResponse__Output } from '../../tessera/v1/PrefillResponse.ts';
import type { WarmupRequest as _tessera_v1_WarmupRequest, WarmupRequest__Output as _tessera_v1_WarmupRequest__Output } from '../../tessera/v1/WarmupRequest.ts';
import type { WarmupResponse as _tessera_v1_WarmupResponse, WarmupResponse__Output as _tessera_v1_WarmupResponse__Output } from '../../tessera/v1/WarmupResponse.ts';

export interface TextGenerationServiceClient extends grpc.Client {
  /**
   * Prefill, Decode, FilterBatch and ClearCache multiplexed on one long-lived stream, replies matched
   * by id: the same calls without opening an HTTP/2 stream per call, which costs ~1 ms of round trip
   * on a 2-core box against ~0.2 ms for a message on an open stream (docs/benchmarks.md). The router
   * uses it when the shard has it, else the unary RPCs above.
   */
  Calls(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tessera_v1_CallRequest, _tessera_v1_CallReply__Output>;
  Calls(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tessera_v1_CallRequest, _tessera_v1_CallReply__Output>;
  /**
   * Prefill, Decode, FilterBatch and ClearCache multiplexed on one long-lived stream, replies matched
   * by id: the same calls without opening an HTTP/2 stream per call, which costs ~1 ms of round trip
   * on a 2-core box against ~0.2 ms for a message on an open stream (docs/benchmarks.md). The router
   * uses it when the shard has it, else the unary RPCs above.
   */
  calls(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tessera_v1_CallRequest, _tessera_v1_CallReply__Output>;
  calls(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tessera_v1_CallRequest, _tessera_v1_CallReply__Output>;
  
  /**
   * Drop one cached batch, or all of them when no id is given.
   */
  ClearCache(argument: _tessera_v1_ClearCacheRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  ClearCache(argument: _tessera_v1_ClearCacheRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  ClearCache(argument: _tessera_v1_ClearCacheRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  ClearCache(argument: _tessera_v1_ClearCacheRequest, callback: grpc.requestCallback<_tessera_v1_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Drop one cached batch, or all of them when no id is given.
   */
  clearCache(argument: _tessera_v1_ClearCacheRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  clearCache(argument: _tessera_v1_ClearCacheRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  clearCache(argument: _tessera_v1_ClearCacheRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  clearCache(argument: _tessera_v1_ClearCacheRequest, callback: grpc.requestCallback<_tessera_v1_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Concatenate the given cached batches and run one decode step on them.
   */
  Decode(argument: _tessera_v1_DecodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  Decode(argument: _tessera_v1_DecodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  Decode(argument: _tessera_v1_DecodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  Decode(argument: _tessera_v1_DecodeRequest, callback: grpc.requestCallback<_tessera_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Concatenate the given cached batches and run one decode step on them.
   */
  decode(argument: _tessera_v1_DecodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  decode(argument: _tessera_v1_DecodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  decode(argument: _tessera_v1_DecodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  decode(argument: _tessera_v1_DecodeRequest, callback: grpc.requestCallback<_tessera_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Continuous decode: the first message names the cached batches to concatenate (as Decode); the
   * shard then keeps stepping them, sending each step's generations, without waiting for the router.
   * Later messages drop requests (finished or cancelled on the router) before a following step, or
   * stop the loop after the step in flight. The stream ends after a stop, or when no request is left;
   * the survivors stay cached under the batch's id, as after Decode. Tensor parallel: only rank 0
   * reads the controls and shares them with the other ranks at a step boundary, so every rank drops
   * and stops at the same step; the other ranks send only their last step.
   */
  DecodeStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tessera_v1_DecodeStreamControl, _tessera_v1_DecodeResponse__Output>;
  DecodeStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tessera_v1_DecodeStreamControl, _tessera_v1_DecodeResponse__Output>;
  /**
   * Continuous decode: the first message names the cached batches to concatenate (as Decode); the
   * shard then keeps stepping them, sending each step's generations, without waiting for the router.
   * Later messages drop requests (finished or cancelled on the router) before a following step, or
   * stop the loop after the step in flight. The stream ends after a stop, or when no request is left;
   * the survivors stay cached under the batch's id, as after Decode. Tensor parallel: only rank 0
   * reads the controls and shares them with the other ranks at a step boundary, so every rank drops
   * and stops at the same step; the other ranks send only their last step.
   */
  decodeStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tessera_v1_DecodeStreamControl, _tessera_v1_DecodeResponse__Output>;
  decodeStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tessera_v1_DecodeStreamControl, _tessera_v1_DecodeResponse__Output>;
  
  /**
   * Keep only the listed requests of a cached batch.
   */
  FilterBatch(argument: _tessera_v1_FilterBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_FilterBatchResponse__Output>): grpc.ClientUnaryCall;
  FilterBatch(argument: _tessera_v1_FilterBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_FilterBatchResponse__Output>): grpc.ClientUnaryCall;
  FilterBatch(argument: _tessera_v1_FilterBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_FilterBatchResponse__Output>): grpc.ClientUnaryCall;
  FilterBatch(argument: _tessera_v1_FilterBatchRequest, callback: grpc.requestCallback<_tessera_v1_FilterBatchResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Keep only the listed requests of a cached batch.
   */
  filterBatch(argument: _tessera_v1_FilterBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_FilterBatchResponse__Output>): grpc.ClientUnaryCall;
  filterBatch(argument: _tessera_v1_FilterBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_FilterBatchResponse__Output>): grpc.ClientUnaryCall;
  filterBatch(argument: _tessera_v1_FilterBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_FilterBatchResponse__Output>): grpc.ClientUnaryCall;
  filterBatch(argument: _tessera_v1_FilterBatchRequest, callback: grpc.requestCallback<_tessera_v1_FilterBatchResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Liveness of the shard and its model runner.
   */
  Health(argument: _tessera_v1_HealthRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _tessera_v1_HealthRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _tessera_v1_HealthRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _tessera_v1_HealthRequest, callback: grpc.requestCallback<_tessera_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Liveness of the shard and its model runner.
   */
  health(argument: _tessera_v1_HealthRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _tessera_v1_HealthRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _tessera_v1_HealthRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _tessera_v1_HealthRequest, callback: grpc.requestCallback<_tessera_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Model information (identical on every shard except rank).
   */
  Info(argument: _tessera_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _tessera_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _tessera_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _tessera_v1_InfoRequest, callback: grpc.requestCallback<_tessera_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Model information (identical on every shard except rank).
   */
  info(argument: _tessera_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _tessera_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _tessera_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _tessera_v1_InfoRequest, callback: grpc.requestCallback<_tessera_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Compute the prompts of a new batch and sample their first token.
   */
  Prefill(argument: _tessera_v1_PrefillRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  Prefill(argument: _tessera_v1_PrefillRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  Prefill(argument: _tessera_v1_PrefillRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  Prefill(argument: _tessera_v1_PrefillRequest, callback: grpc.requestCallback<_tessera_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Compute the prompts of a new batch and sample their first token.
   */
  prefill(argument: _tessera_v1_PrefillRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  prefill(argument: _tessera_v1_PrefillRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  prefill(argument: _tessera_v1_PrefillRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  prefill(argument: _tessera_v1_PrefillRequest, callback: grpc.requestCallback<_tessera_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Run a worst-case prefill, then size the KV cache from the shard's memory budget.
   */
  Warmup(argument: _tessera_v1_WarmupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_WarmupResponse__Output>): grpc.ClientUnaryCall;
  Warmup(argument: _tessera_v1_WarmupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_WarmupResponse__Output>): grpc.ClientUnaryCall;
  Warmup(argument: _tessera_v1_WarmupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_WarmupResponse__Output>): grpc.ClientUnaryCall;
  Warmup(argument: _tessera_v1_WarmupRequest, callback: grpc.requestCallback<_tessera_v1_WarmupResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Run a worst-case prefill, then size the KV cache from the shard's memory budget.
   */
  warmup(argument: _tessera_v1_WarmupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_WarmupResponse__Output>): grpc.ClientUnaryCall;
  warmup(argument: _tessera_v1_WarmupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tessera_v1_WarmupResponse__Output>): grpc.ClientUnaryCall;
  warmup(argument: _tessera_v1_WarmupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tessera_v1_WarmupResponse__Output>): grpc.ClientUnaryCall;
  warmup(argument: _tessera_v1_WarmupRequest, callback: grpc.requestCallback<_tessera_v1_WarmupResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface TextGenerationServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Prefill, Decode, FilterBatch and ClearCache multiplexed on one long-lived stream, replies matched
   * by id: the same calls without opening an HTTP/2 stream per call, which costs ~1 ms of round trip
   * on a 2-core box against ~0.2 ms for a message on an open stream (docs/benchmarks.md). The router
   * uses it when the shard has it, else the unary RPCs above.
   */
  Calls: grpc.handleBidiStreamingCall<_tessera_v1_CallRequest__Output, _tessera_v1_CallReply>;
  
  /**
   * Drop one cached batch, or all of them when no id is given.
   */
  ClearCache: grpc.handleUnaryCall<_tessera_v1_ClearCacheRequest__Output, _tessera_v1_ClearCacheResponse>;
  
  /**
   * Concatenate the given cached batches and run one decode step on them.
   */
  Decode: grpc.handleUnaryCall<_tessera_v1_DecodeRequest__Output, _tessera_v1_DecodeResponse>;
  
  /**
   * Continuous decode: the first message names the cached batches to concatenate (as Decode); the
   * shard then keeps stepping them, sending each step's generations, without waiting for the router.
   * Later messages drop requests (finished or cancelled on the router) before a following step, or
   * stop the loop after the step in flight. The stream ends after a stop, or when no request is left;
   * the survivors stay cached under the batch's id, as after Decode. Tensor parallel: only rank 0
   * reads the controls and shares them with the other ranks at a step boundary, so every rank drops
   * and stops at the same step; the other ranks send only their last step.
   */
  DecodeStream: grpc.handleBidiStreamingCall<_tessera_v1_DecodeStreamControl__Output, _tessera_v1_DecodeResponse>;
  
  /**
   * Keep only the listed requests of a cached batch.
   */
  FilterBatch: grpc.handleUnaryCall<_tessera_v1_FilterBatchRequest__Output, _tessera_v1_FilterBatchResponse>;
  
  /**
   * Liveness of the shard and its model runner.
   */
  Health: grpc.handleUnaryCall<_tessera_v1_HealthRequest__Output, _tessera_v1_HealthResponse>;
  
  /**
   * Model information (identical on every shard except rank).
   */
  Info: grpc.handleUnaryCall<_tessera_v1_InfoRequest__Output, _tessera_v1_InfoResponse>;
  
  /**
   * Compute the prompts of a new batch and sample their first token.
   */
  Prefill: grpc.handleUnaryCall<_tessera_v1_PrefillRequest__Output, _tessera_v1_PrefillResponse>;
  
  /**
   * Run a worst-case prefill, then size the KV cache from the shard's memory budget.
   */
  Warmup: grpc.handleUnaryCall<_tessera_v1_WarmupRequest__Output, _tessera_v1_WarmupResponse>;
  
}

export interface TextGenerationServiceDefinition extends grpc.ServiceDefinition {
  Calls: MethodDefinition<_tessera_v1_CallRequest, _tessera_v1_CallReply, _tessera_v1_CallRequest__Output, _tessera_v1_CallReply__Output>
  ClearCache: MethodDefinition<_tessera_v1_ClearCacheRequest, _tessera_v1_ClearCacheResponse, _tessera_v1_ClearCacheRequest__Output, _tessera_v1_ClearCacheResponse__Output>
  Decode: MethodDefinition<_tessera_v1_DecodeRequest, _tessera_v1_DecodeResponse, _tessera_v1_DecodeRequest__Output, _tessera_v1_DecodeResponse__Output>
  DecodeStream: MethodDefinition<_tessera_v1_DecodeStreamControl, _tessera_v1_DecodeResponse, _tessera_v1_DecodeStreamControl__Output, _tessera_v1_DecodeResponse__Output>
  FilterBatch: MethodDefinition<_tessera_v1_FilterBatchRequest, _tessera_v1_FilterBatchResponse, _tessera_v1_FilterBatchRequest__Output, _tessera_v1_FilterBatchResponse__Output>
  Health: MethodDefinition<_tessera_v1_HealthRequest, _tessera_v1_HealthResponse, _tessera_v1_HealthRequest__Output, _tessera_v1_HealthResponse__Output>
  Info: MethodDefinition<_tessera_v1_InfoRequest, _tessera_v1_InfoResponse, _tessera_v1_InfoRequest__Output, _tessera_v1_InfoResponse__Output>
  Prefill: MethodDefinition<_tessera_v1_PrefillRequest, _tessera_v1_PrefillResponse, _tessera_v1_PrefillRequest__Output, _tessera_v1_PrefillResponse__Output>
  Warmup: MethodDefinition<_tessera_v1_WarmupRequest, _tessera_v1_WarmupResponse, _tessera_v1_WarmupRequest__Output, _tessera_v1_WarmupResponse__Output>
}
