// @module The shard's logic behind the RPCs: batch cache + model runner + sampler (runs on the runner thread).
import type {
  ClearCacheRequest,
  DecodeRequest,
  DecodeResponse,
  FilterBatchRequest,
  FilterBatchResponse,
  Generation,
  InfoResponse,
  PrefillRequest,
  PrefillResponse,
  Timings,
  WarmupRequest,
  WarmupResponse,
} from '@tessera/protocol';
import { logSoftmax } from '../sampler/sampler.ts';
import { Batch, InvalidRequestError, type RequestState } from './batch.ts';
import { BatchCache } from './batch-cache.ts';
import { defaultKvBudgetBytes, planNumBlocks } from './kv-cache.ts';
import type { ModelRunner, StepResult } from './model-runner.ts';

export interface EngineOptions {
  modelId: string;
  rank: number;
  worldSize: number;
  /** KV budget in bytes; default 25 % of free memory capped at 2 GiB. */
  kvCacheMemory?: number;
}

const now = () => process.hrtime.bigint();

export class ShardEngine {
  readonly #cache = new BatchCache();

  constructor(
    readonly runner: ModelRunner,
    readonly options: EngineOptions,
  ) {}

  info(): InfoResponse {
    const c = this.runner.config;
    return {
      modelId: this.options.modelId,
      architecture: c.architecture,
      dtype: 'float32',
      deviceType: 'cpu',
      vocabSize: c.vocabSize,
      maxPositionEmbeddings: c.maxPositionEmbeddings,
      blockSize: this.runner.blockSize,
      rank: this.options.rank,
      worldSize: this.options.worldSize,
      numLayers: c.numLayers,
      numKvHeads: c.numKvHeads,
      headDim: c.headDim,
    };
  }

  async warmup(req: WarmupRequest): Promise<WarmupResponse> {
    if (!(req.maxBatchPrefillTokens > 0)) throw new InvalidRequestError('warmup: max_batch_prefill_tokens must be > 0');
    this.#cache.clear();
    const budget = this.options.kvCacheMemory ?? defaultKvBudgetBytes();
    const numBlocks = planNumBlocks(this.runner.geometry, budget, req.maxTotalTokens);
    const kv = await this.runner.warmup(req.maxBatchPrefillTokens, numBlocks);
    return { maxSupportedTotalTokens: kv.capacityTokens, numBlocks: kv.numBlocks, blockSize: kv.geometry.blockSize, kvCacheBytes: kv.bytes };
  }

  async prefill(req: PrefillRequest): Promise<PrefillResponse> {
    const started = now();
    const batch = Batch.fromProto(req.batch, this.runner.config.vocabSize, this.runner.blockSize);
    const starts = batch.requests.map((r) => r.computed);
    const result = await this.runner.prefill(batch);
    return this.#finishStep(batch, result, started, starts);
  }

  async decode(req: DecodeRequest): Promise<DecodeResponse> {
    const started = now();
    if (req.batches.length === 0) throw new InvalidRequestError('decode: no batches');
    for (const b of req.batches) if (!this.#cache.has(b.id)) throw new InvalidRequestError(`batch ${b.id} not found in cache`);
    const batch = Batch.concatenate(req.batches.map((b) => this.#cache.take(b.id)));
    const result = await this.runner.decode(batch);
    return this.#finishStep(batch, result, started, null);
  }

  filterBatch(req: FilterBatchRequest): FilterBatchResponse {
    const kept = this.#cache.take(req.batchId).filter(req.requestIds);
    if (kept === null) return { batch: null };
    this.#cache.set(kept);
    return { batch: kept.toCachedBatch() };
  }

  clearCache(req: ClearCacheRequest): void {
    if (req.id === undefined || req.id === null) this.#cache.clear();
    else this.#cache.delete(req.id);
  }

  /** Samples every request, applies stops, caches the survivors. `starts` is set at prefill. */
  #finishStep(batch: Batch, result: StepResult, started: bigint, starts: number[] | null) {
    const sampleStart = now();
    const V = result.vocabSize;
    const generations: Generation[] = [];
    const live: RequestState[] = [];
    batch.requests.forEach((r, i) => {
      const first = result.logitOffsets[i]!;
      const last = first + (starts !== null && r.prefillLogprobs ? r.tokens.length - 1 - starts[i]! : 0);
      const row = (k: number) => result.logits.subarray(k * V, (k + 1) * V);
      const prefillTokens = starts !== null && r.prefillLogprobs ? promptLogprobs(r.tokens, starts[i]!, first, row) : null;
      const forbidden = r.stopping.suppressStops(r.generated) ? r.stopping.stopTokenIds : [];
      const choice = r.chooser.choose(row(last), r.topNTokens, forbidden);
      r.computed = r.tokens.length;
      r.tokens.push(choice.id);
      r.chooser.accept(choice.id);
      r.generated++;
      let finishReason = r.stopping.check(choice.id, r.generated);
      // The next step must write this token's K/V: stop when the reserved blocks are full.
      if (finishReason === 'FINISH_REASON_UNSPECIFIED' && r.tokens.length > r.capacity(batch.blockSize)) finishReason = 'FINISH_REASON_LENGTH';
      if (finishReason === 'FINISH_REASON_UNSPECIFIED') live.push(r);
      generations.push({
        requestId: r.id,
        prefillTokens,
        tokens: { ids: [choice.id], logprobs: [choice.logprob] },
        topTokens: r.topNTokens > 0 ? [choice.top] : [],
        finishReason,
        generatedTokens: r.generated,
        seed: r.chooser.seed,
      });
    });
    const next = live.length > 0 ? new Batch(batch.id, live, batch.blockSize) : null;
    if (next !== null) this.#cache.set(next);
    const end = now();
    const timings: Timings = {
      forwardNs: result.forwardNs,
      sampleNs: Number(end - sampleStart),
      totalNs: Number(end - started),
      computedTokens: result.computedTokens,
    };
    return { generations, batch: next?.toCachedBatch() ?? null, timings };
  }
}

/** Prompt token logprobs: token k is scored by the logits after token k-1 (NaN where not computed). */
function promptLogprobs(tokens: number[], start: number, firstRow: number, row: (k: number) => Float32Array) {
  const logprobs = tokens.map((t, k) => (k === 0 || k - 1 < start ? NaN : logSoftmax(row(firstRow + k - 1 - start))[t]!));
  return { ids: [...tokens], logprobs };
}
