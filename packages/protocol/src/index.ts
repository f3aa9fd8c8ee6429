// @module The router⇄shard gRPC API: proto/generate.proto loaded once; the domain message types both ends use (the wire's own types are generated into generated/, converted in wire.ts).
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ClearCacheRequest__Output } from './generated/tessera/v1/ClearCacheRequest.ts';
import type { DecodeRequest__Output } from './generated/tessera/v1/DecodeRequest.ts';
import type { DecodeStreamControl__Output } from './generated/tessera/v1/DecodeStreamControl.ts';
import type { FilterBatchRequest__Output } from './generated/tessera/v1/FilterBatchRequest.ts';
import type { PrefillRequest__Output } from './generated/tessera/v1/PrefillRequest.ts';
import type { WarmupRequest__Output } from './generated/tessera/v1/WarmupRequest.ts';
import { callsHandler, OpenCalls } from './calls-server.ts';
import { fromWireClearCacheRequest, fromWireDecodeRequest, fromWireFilterBatchRequest, fromWirePrefillRequest, fromWireWarmupRequest } from './wire.ts';

export const PROTO_PATH = fileURLToPath(new URL('../../../proto/generate.proto', import.meta.url));

// camelCase fields, 64-bit ints as JS numbers (ids stay below 2^53), enums as their names,
// absent scalars/repeated fields filled with defaults so both ends read plain objects.
const packageDefinition = protoLoader.loadSync(PROTO_PATH, {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  tessera: { v1: { TextGenerationService: grpc.ServiceClientConstructor } };
};

export const TextGenerationService = loaded.tessera.v1.TextGenerationService;
export const serviceDefinition: grpc.ServiceDefinition = TextGenerationService.service;

export type FinishReason = 'FINISH_REASON_UNSPECIFIED' | 'FINISH_REASON_LENGTH' | 'FINISH_REASON_EOS_TOKEN' | 'FINISH_REASON_STOP_SEQUENCE';

export interface InfoResponse {
  modelId: string;
  architecture: string;
  dtype: string;
  deviceType: string;
  vocabSize: number;
  maxPositionEmbeddings: number;
  blockSize: number;
  rank: number;
  worldSize: number;
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  /** Tensors per storage type, "Q4_K×13, Q6_K×3, F32×5". */
  weightTypes: string;
  quantized: boolean;
  /** Bytes of this rank's weights as the graph holds them. */
  weightBytes: number;
  /** The sliding window when every layer slides (its KV blocks behind it may be released), else 0. */
  slidingWindowAllLayers: number;
  /** Draft tokens per decode step (--speculate; 0 = off). */
  speculate: number;
  /** Random per shard process: a new value means the shard restarted (KV cache and batches gone). */
  instanceId: string;
}

export interface HealthResponse {
  instanceId: string;
  /** Warmup has allocated the KV cache in this process. */
  warmedUp: boolean;
}

export interface WarmupRequest {
  maxBatchPrefillTokens: number;
  maxTotalTokens: number;
  maxBatchSize: number;
  /** > 0: allocate exactly this many KV blocks (re-warmup after a restart); see generate.proto. */
  numBlocks?: number;
}

export interface WarmupResponse {
  maxSupportedTotalTokens: number;
  numBlocks: number;
  blockSize: number;
  kvCacheBytes: number;
}

export interface NextTokenChooserParameters {
  temperature: number;
  topK: number;
  topP: number;
  typicalP: number;
  doSample: boolean;
  seed: number;
  repetitionPenalty: number;
  frequencyPenalty: number;
  presencePenalty: number;
  minP: number;
  logitBias: Record<number, number>;
  /** Constrained decoding: an xgrammar structural tag as JSON (@tessera/grammar); '' or absent = none. */
  grammar?: string;
}

export interface StoppingCriteriaParameters {
  maxNewTokens: number;
  stopTokenIds: number[];
  minNewTokens: number;
}

export interface Request {
  id: number;
  inputIds: number[];
  parameters: NextTokenChooserParameters;
  stoppingParameters: StoppingCriteriaParameters;
  prefillLogprobs: boolean;
  topNTokens: number;
  blocks: number[];
  cacheLen: number;
  /** Prompt tokens to compute in this Prefill from cacheLen on (0 = all the rest); see generate.proto. */
  chunkLen?: number;
}

export interface Batch {
  id: number;
  requests: Request[];
  size: number;
  maxTokens: number;
}

export interface CachedBatch {
  id: number;
  requestIds: number[];
  size: number;
  maxTokens: number;
}

export interface Tokens {
  ids: number[];
  logprobs: number[];
}

export interface Generation {
  requestId: number;
  prefillTokens: Tokens | null;
  tokens: Tokens;
  topTokens: Tokens[];
  finishReason: FinishReason;
  generatedTokens: number;
  seed: number;
  /** Per prompt position, its top-n alternatives (with prefillTokens and topNTokens > 0). */
  prefillTopTokens?: Tokens[];
}

export interface Timings {
  forwardNs: number;
  sampleNs: number;
  totalNs: number;
  computedTokens: number;
  /** Speculative decoding: draft tokens verified this step, and how many were accepted. */
  draftTokens: number;
  acceptedDraftTokens: number;
  /** Constrained decoding: wall time of this step's grammar masks (beside the forward); absent or 0 when none. */
  grammarMaskNs?: number;
}

export interface PrefillRequest {
  batch: Batch;
}
export interface PrefillResponse {
  generations: Generation[];
  batch: CachedBatch | null;
  timings: Timings;
}
export interface DecodeRequest {
  batches: CachedBatch[];
}
export interface DecodeResponse {
  generations: Generation[];
  batch: CachedBatch | null;
  timings: Timings;
}
/** A control the router sends into a running DecodeStream (see generate.proto). */
export interface DecodeStreamControl {
  /** Requests to leave the batch before the next step the shard starts. */
  dropRequestIds: number[];
  /** End the loop after the step in flight. */
  stop: boolean;
}
/** The shard's side of one DecodeStream: controls go in while the loop runs; `done` settles when it ends. */
export interface DecodeStreamHandle {
  control(c: DecodeStreamControl): void;
  readonly done: Promise<void>;
}
export interface FilterBatchRequest {
  batchId: number;
  requestIds: number[];
}
export interface FilterBatchResponse {
  batch: CachedBatch | null;
}
export interface ClearCacheRequest {
  id?: number | null;
}

/** The shard's side of the API: each method takes the decoded request and resolves the reply. */
export interface ShardHandlers {
  info(): Promise<InfoResponse>;
  health(): Promise<HealthResponse>;
  warmup(req: WarmupRequest): Promise<WarmupResponse>;
  prefill(req: PrefillRequest): Promise<PrefillResponse>;
  decode(req: DecodeRequest): Promise<DecodeResponse>;
  /** Continuous decode: `onStep` gets each step's reply until the loop ends (stop, or no request left). */
  decodeStream(req: DecodeRequest, onStep: (step: DecodeResponse) => void): DecodeStreamHandle;
  filterBatch(req: FilterBatchRequest): Promise<FilterBatchResponse>;
  clearCache(req: ClearCacheRequest): Promise<void>;
}

/**
 * Builds a grpc-js service implementation from promise handlers; a thrown error becomes INTERNAL.
 * `openCalls` tracks the Calls streams so that a shutdown can end them (calls-server.ts).
 */
export function toServiceImplementation(h: ShardHandlers, openCalls: OpenCalls = new OpenCalls()): grpc.UntypedServiceImplementation {
  const unary =
    <Req, Res>(fn: (req: Req) => Promise<Res>) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
      fn(call.request).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const e = err as { message?: string; grpcCode?: number };
          callback({ code: e.grpcCode ?? grpc.status.INTERNAL, details: e.message ?? String(err) }, null);
        },
      );
    };
  const grpcError = (err: unknown): Partial<grpc.StatusObject> => {
    const e = err as { message?: string; grpcCode?: number };
    return { code: e.grpcCode ?? grpc.status.INTERNAL, details: e.message ?? String(err) };
  };
  /**
   * The first message starts the loop; later ones are controls. The router half-closing or
   * cancelling the call stops the loop after the step in flight (nothing is left running unwatched).
   */
  const decodeStream = (call: grpc.ServerDuplexStream<DecodeStreamControl__Output, DecodeResponse>) => {
    let handle: DecodeStreamHandle | null = null;
    let ended = false;
    const stop = () => handle?.control({ dropRequestIds: [], stop: true });
    call.on('data', (msg: DecodeStreamControl__Output) => {
      if (handle !== null) {
        handle.control({ dropRequestIds: msg.dropRequestIds, stop: msg.stop });
        return;
      }
      try {
        handle = h.decodeStream(fromWireDecodeRequest(msg), (step) => {
          if (!ended) call.write(step);
        });
        if (msg.stop || msg.dropRequestIds.length > 0) handle.control({ dropRequestIds: msg.dropRequestIds, stop: msg.stop });
      } catch (err) {
        ended = true;
        call.emit('error', grpcError(err));
        return;
      }
      handle.done.then(
        () => {
          ended = true;
          call.end();
        },
        (err: unknown) => {
          ended = true;
          call.emit('error', grpcError(err));
        },
      );
    });
    call.on('end', stop);
    call.on('cancelled', () => {
      ended = true;
      stop();
    });
  };
  // What arrives is the wire's type (absent messages null); the handlers get domain values (wire.ts).
  return {
    Info: unary(() => h.info()),
    Health: unary(() => h.health()),
    Warmup: unary(async (r: WarmupRequest__Output) => h.warmup(fromWireWarmupRequest(r))),
    Prefill: unary(async (r: PrefillRequest__Output) => h.prefill(fromWirePrefillRequest(r))),
    Decode: unary(async (r: DecodeRequest__Output) => h.decode(fromWireDecodeRequest(r))),
    DecodeStream: decodeStream,
    Calls: callsHandler(h, openCalls),
    FilterBatch: unary(async (r: FilterBatchRequest__Output) => h.filterBatch(fromWireFilterBatchRequest(r))),
    ClearCache: unary(async (r: ClearCacheRequest__Output) => {
      await h.clearCache(fromWireClearCacheRequest(r));
      return {};
    }),
  };
}

/** Channel options shared by both ends: large messages (prompt logprobs, big batches). */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
  'grpc.max_send_message_length': 256 * 1024 * 1024,
};

export { grpc };

export { chooserSeed, isGreedy, samplingFields } from './sampling.ts';
export {
  WireFormatError,
  fromWireDecodeResponse,
  fromWireFilterBatchResponse,
  fromWireHealth,
  fromWireInfo,
  fromWirePrefillResponse,
  fromWireWarmup,
} from './wire.ts';
export { workerBootstrap } from './worker-bootstrap.ts';

export { OpenCalls } from './calls-server.ts';
export type { CallReply__Output } from './generated/tessera/v1/CallReply.ts';
