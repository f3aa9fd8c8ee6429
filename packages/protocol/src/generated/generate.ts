import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Batch as _tessera_v1_Batch, Batch__Output as _tessera_v1_Batch__Output } from './tessera/v1/Batch.ts';
import type { CachedBatch as _tessera_v1_CachedBatch, CachedBatch__Output as _tessera_v1_CachedBatch__Output } from './tessera/v1/CachedBatch.ts';
import type { CallError as _tessera_v1_CallError, CallError__Output as _tessera_v1_CallError__Output } from './tessera/v1/CallError.ts';
import type { CallReply as _tessera_v1_CallReply, CallReply__Output as _tessera_v1_CallReply__Output } from './tessera/v1/CallReply.ts';
import type { CallRequest as _tessera_v1_CallRequest, CallRequest__Output as _tessera_v1_CallRequest__Output } from './tessera/v1/CallRequest.ts';
import type { ClearCacheRequest as _tessera_v1_ClearCacheRequest, ClearCacheRequest__Output as _tessera_v1_ClearCacheRequest__Output } from './tessera/v1/ClearCacheRequest.ts';
import type { ClearCacheResponse as _tessera_v1_ClearCacheResponse, ClearCacheResponse__Output as _tessera_v1_ClearCacheResponse__Output } from './tessera/v1/ClearCacheResponse.ts';
import type { DecodeRequest as _tessera_v1_DecodeRequest, DecodeRequest__Output as _tessera_v1_DecodeRequest__Output } from './tessera/v1/DecodeRequest.ts';
import type { DecodeResponse as _tessera_v1_DecodeResponse, DecodeResponse__Output as _tessera_v1_DecodeResponse__Output } from './tessera/v1/DecodeResponse.ts';
import type { DecodeStreamControl as _tessera_v1_DecodeStreamControl, DecodeStreamControl__Output as _tessera_v1_DecodeStreamControl__Output } from './tessera/v1/DecodeStreamControl.ts';
import type { FilterBatchRequest as _tessera_v1_FilterBatchRequest, FilterBatchRequest__Output as _tessera_v1_FilterBatchRequest__Output } from './tessera/v1/FilterBatchRequest.ts';
import type { FilterBatchResponse as _tessera_v1_FilterBatchResponse, FilterBatchResponse__Output as _tessera_v1_FilterBatchResponse__Output } from './tessera/v1/FilterBatchResponse.ts';
import type { Generation as _tessera_v1_Generation, Generation__Output as _tessera_v1_Generation__Output } from './tessera/v1/Generation.ts';
import type { HealthRequest as _tessera_v1_HealthRequest, HealthRequest__Output as _tessera_v1_HealthRequest__Output } from './tessera/v1/HealthRequest.ts';
import type { HealthResponse as _tessera_v1_HealthResponse, HealthResponse__Output as _tessera_v1_HealthResponse__Output } from './tessera/v1/HealthResponse.ts';
import type { InfoRequest as _tessera_v1_InfoRequest, InfoRequest__Output as _tessera_v1_InfoRequest__Output } from './tessera/v1/InfoRequest.ts';
import type { InfoResponse as _tessera_v1_InfoResponse, InfoResponse__Output as _tessera_v1_InfoResponse__Output } from './tessera/v1/InfoResponse.ts';
import type { NextTokenChooserParameters as _tessera_v1_NextTokenChooserParameters, NextTokenChooserParameters__Output as _tessera_v1_NextTokenChooserParameters__Output } from './tessera/v1/NextTokenChooserParameters.ts';
import type { PrefillRequest as _tessera_v1_PrefillRequest, PrefillRequest__Output as _tessera_v1_PrefillRequest__Output } from './tessera/v1/PrefillRequest.ts';
import type { PrefillResponse as _tessera_v1_PrefillResponse, PrefillResponse__Output as _tessera_v1_PrefillResponse__Output } from './tessera/v1/PrefillResponse.ts';
import type { Request as _tessera_v1_Request, Request__Output as _tessera_v1_Request__Output } from './tessera/v1/Request.ts';
import type { StoppingCriteriaParameters as _tessera_v1_StoppingCriteriaParameters, StoppingCriteriaParameters__Output as _tessera_v1_StoppingCriteriaParameters__Output } from './tessera/v1/StoppingCriteriaParameters.ts';
import type { TextGenerationServiceClient as _tessera_v1_TextGenerationServiceClient, TextGenerationServiceDefinition as _tessera_v1_TextGenerationServiceDefinition } from './tessera/v1/TextGenerationService.ts';
import type { Timings as _tessera_v1_Timings, Timings__Output as _tessera_v1_Timings__Output } from './tessera/v1/Timings.ts';
import type { Tokens as _tessera_v1_Tokens, Tokens__Output as _tessera_v1_Tokens__Output } from './tessera/v1/Tokens.ts';
import type { WarmupRequest as _tessera_v1_WarmupRequest, WarmupRequest__Output as _tessera_v1_WarmupRequest__Output } from './tessera/v1/WarmupRequest.ts';
import type { WarmupResponse as _tessera_v1_WarmupResponse, WarmupResponse__Output as _tessera_v1_WarmupResponse__Output } from './tessera/v1/WarmupResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tessera: {
    v1: {
      Batch: MessageTypeDefinition<_tessera_v1_Batch, _tessera_v1_Batch__Output>
      CachedBatch: MessageTypeDefinition<_tessera_v1_CachedBatch, _tessera_v1_CachedBatch__Output>
      CallError: MessageTypeDefinition<_tessera_v1_CallError, _tessera_v1_CallError__Output>
      CallReply: MessageTypeDefinition<_tessera_v1_CallReply, _tessera_v1_CallReply__Output>
      CallRequest: MessageTypeDefinition<_tessera_v1_CallRequest, _tessera_v1_CallRequest__Output>
      ClearCacheRequest: MessageTypeDefinition<_tessera_v1_ClearCacheRequest, _tessera_v1_ClearCacheRequest__Output>
      ClearCacheResponse: MessageTypeDefinition<_tessera_v1_ClearCacheResponse, _tessera_v1_ClearCacheResponse__Output>
      DecodeRequest: MessageTypeDefinition<_tessera_v1_DecodeRequest, _tessera_v1_DecodeRequest__Output>
      DecodeResponse: MessageTypeDefinition<_tessera_v1_DecodeResponse, _tessera_v1_DecodeResponse__Output>
      DecodeStreamControl: MessageTypeDefinition<_tessera_v1_DecodeStreamControl, _tessera_v1_DecodeStreamControl__Output>
      FilterBatchRequest: MessageTypeDefinition<_tessera_v1_FilterBatchRequest, _tessera_v1_FilterBatchRequest__Output>
      FilterBatchResponse: MessageTypeDefinition<_tessera_v1_FilterBatchResponse, _tessera_v1_FilterBatchResponse__Output>
      FinishReason: EnumTypeDefinition
      Generation: MessageTypeDefinition<_tessera_v1_Generation, _tessera_v1_Generation__Output>
      HealthRequest: MessageTypeDefinition<_tessera_v1_HealthRequest, _tessera_v1_HealthRequest__Output>
      HealthResponse: MessageTypeDefinition<_tessera_v1_HealthResponse, _tessera_v1_HealthResponse__Output>
      InfoRequest: MessageTypeDefinition<_tessera_v1_InfoRequest, _tessera_v1_InfoRequest__Output>
      InfoResponse: MessageTypeDefinition<_tessera_v1_InfoResponse, _tessera_v1_InfoResponse__Output>
      NextTokenChooserParameters: MessageTypeDefinition<_tessera_v1_NextTokenChooserParameters, _tessera_v1_NextTokenChooserParameters__Output>
      PrefillRequest: MessageTypeDefinition<_tessera_v1_PrefillRequest, _tessera_v1_PrefillRequest__Output>
      PrefillResponse: MessageTypeDefinition<_tessera_v1_PrefillResponse, _tessera_v1_PrefillResponse__Output>
      Request: MessageTypeDefinition<_tessera_v1_Request, _tessera_v1_Request__Output>
      StoppingCriteriaParameters: MessageTypeDefinition<_tessera_v1_StoppingCriteriaParameters, _tessera_v1_StoppingCriteriaParameters__Output>
      TextGenerationService: SubtypeConstructor<typeof grpc.Client, _tessera_v1_TextGenerationServiceClient> & { service: _tessera_v1_TextGenerationServiceDefinition }
      Timings: MessageTypeDefinition<_tessera_v1_Timings, _tessera_v1_Timings__Output>
      Tokens: MessageTypeDefinition<_tessera_v1_Tokens, _tessera_v1_Tokens__Output>
      WarmupRequest: MessageTypeDefinition<_tessera_v1_WarmupRequest, _tessera_v1_WarmupRequest__Output>
      WarmupResponse: MessageTypeDefinition<_tessera_v1_WarmupResponse, _tessera_v1_WarmupResponse__Output>
    }
  }
}

