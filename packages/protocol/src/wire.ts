// @module The edge between the generated wire types (generated/, from proto/generate.proto) and the domain types both ends use: what arrives (absent messages are null) is converted and checked; what is sent must fit the wire's input types at compile time.
import * as grpc from '@grpc/grpc-js';
import type { CachedBatch as WireCachedBatch, CachedBatch__Output } from './generated/tessera/v1/CachedBatch.ts';
import type { ClearCacheRequest__Output } from './generated/tessera/v1/ClearCacheRequest.ts';
import type { DecodeRequest__Output } from './generated/tessera/v1/DecodeRequest.ts';
import type { DecodeResponse as WireDecodeResponse, DecodeResponse__Output } from './generated/tessera/v1/DecodeResponse.ts';
import type { FilterBatchRequest__Output } from './generated/tessera/v1/FilterBatchRequest.ts';
import type { FilterBatchResponse as WireFilterBatchResponse, FilterBatchResponse__Output } from './generated/tessera/v1/FilterBatchResponse.ts';
import type { Generation__Output } from './generated/tessera/v1/Generation.ts';
import type { HealthResponse as WireHealthResponse, HealthResponse__Output } from './generated/tessera/v1/HealthResponse.ts';
import type { InfoResponse as WireInfoResponse, InfoResponse__Output } from './generated/tessera/v1/InfoResponse.ts';
import type { PrefillRequest as WirePrefillRequest, PrefillRequest__Output } from './generated/tessera/v1/PrefillRequest.ts';
import type { PrefillResponse as WirePrefillResponse, PrefillResponse__Output } from './generated/tessera/v1/PrefillResponse.ts';
import type { Request__Output } from './generated/tessera/v1/Request.ts';
import type { WarmupRequest as WireWarmupRequest, WarmupRequest__Output } from './generated/tessera/v1/WarmupRequest.ts';
import type { WarmupResponse as WireWarmupResponse, WarmupResponse__Output } from './generated/tessera/v1/WarmupResponse.ts';
import type {
  CachedBatch,
  ClearCacheRequest,
  DecodeRequest,
  DecodeResponse,
  FilterBatchRequest,
  FilterBatchResponse,
  Generation,
  HealthResponse,
  InfoResponse,
  PrefillRequest,
  PrefillResponse,
  Request,
  Timings,
  Tokens,
  WarmupRequest,
  WarmupResponse,
} from './index.ts';

/** A request the shard cannot read (a required message absent): gRPC INVALID_ARGUMENT, not INTERNAL. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
  readonly grpcCode = grpc.status.INVALID_ARGUMENT;
}

/** The domain values each end sends, as the wire's permissive input types (a drift fails to compile). */
export interface OutgoingWire {
  warmupRequest: WireWarmupRequest;
  prefillRequest: WirePrefillRequest;
  cachedBatch: WireCachedBatch;
  info: WireInfoResponse;
  health: WireHealthResponse;
  warmup: WireWarmupResponse;
  prefill: WirePrefillResponse;
  decode: WireDecodeResponse;
  filterBatch: WireFilterBatchResponse;
}
// Compile-time checks that every domain type sent over the wire fits its wire type.
type Fits<Domain extends Wire, Wire> = Domain;
export type CheckedOutgoing = [
  Fits<WarmupRequest, OutgoingWire['warmupRequest']>,
  Fits<PrefillRequest, OutgoingWire['prefillRequest']>,
  Fits<CachedBatch, OutgoingWire['cachedBatch']>,
  Fits<InfoResponse, OutgoingWire['info']>,
  Fits<HealthResponse, OutgoingWire['health']>,
  Fits<WarmupResponse, OutgoingWire['warmup']>,
  Fits<PrefillResponse, OutgoingWire['prefill']>,
  Fits<DecodeResponse, OutgoingWire['decode']>,
  Fits<FilterBatchResponse, OutgoingWire['filterBatch']>,
];

const noTokens = (): Tokens => ({ ids: [], logprobs: [] });
const noTimings = (): Timings => ({ forwardNs: 0, sampleNs: 0, totalNs: 0, computedTokens: 0, draftTokens: 0, acceptedDraftTokens: 0 });

// ---- what the router receives (shard replies) ----

export const fromWireInfo = (r: InfoResponse__Output): InfoResponse => r;
export const fromWireHealth = (r: HealthResponse__Output): HealthResponse => r;
export const fromWireWarmup = (r: WarmupResponse__Output): WarmupResponse => r;

/** A Generation whose prompt chunk did not reach its end carries no `tokens` message: it arrives null. */
export function fromWireGeneration(g: Generation__Output): Generation {
  return { ...g, tokens: g.tokens ?? noTokens() };
}

function fromWireStep(r: PrefillResponse__Output | DecodeResponse__Output): PrefillResponse {
  return { generations: r.generations.map(fromWireGeneration), batch: r.batch, timings: r.timings ?? noTimings() };
}
export const fromWirePrefillResponse: (r: PrefillResponse__Output) => PrefillResponse = fromWireStep;
export const fromWireDecodeResponse: (r: DecodeResponse__Output) => DecodeResponse = fromWireStep;
export const fromWireFilterBatchResponse = (r: FilterBatchResponse__Output): FilterBatchResponse => ({ batch: r.batch ?? null });

// ---- what the shard receives (router requests) ----

export const fromWireWarmupRequest = (r: WarmupRequest__Output): WarmupRequest => r;
export const fromWireCachedBatch = (b: CachedBatch__Output): CachedBatch => b;
export const fromWireDecodeRequest = (r: DecodeRequest__Output): DecodeRequest => ({ batches: r.batches.map(fromWireCachedBatch) });
export const fromWireFilterBatchRequest = (r: FilterBatchRequest__Output): FilterBatchRequest => r;
export const fromWireClearCacheRequest = (r: ClearCacheRequest__Output): ClearCacheRequest => ({ id: r.id ?? null });

function fromWireRequest(r: Request__Output): Request {
  if (r.parameters === null) throw new WireFormatError(`request ${r.id} has no parameters`);
  if (r.stoppingParameters === null) throw new WireFormatError(`request ${r.id} has no stopping_parameters`);
  return { ...r, parameters: r.parameters, stoppingParameters: r.stoppingParameters };
}

export function fromWirePrefillRequest(r: PrefillRequest__Output): PrefillRequest {
  if (r.batch === null) throw new WireFormatError('Prefill without a batch');
  return { batch: { ...r.batch, requests: r.batch.requests.map(fromWireRequest) } };
}
